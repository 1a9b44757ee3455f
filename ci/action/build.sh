#!/usr/bin/env bash
# Builds tokio-guard from the action's own checkout into TG_PREFIX (cached by
# the caller). On Ubuntu 22.04 libbpf 1.5 is built first, into the same prefix.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
: "${TG_PREFIX:?TG_PREFIX: where to install}"
. /etc/os-release
work="${RUNNER_TEMP:-/tmp}/tokio-guard-build"
mkdir -p "$work" "$TG_PREFIX"
cmake_args=()
if [ "${ID}-${VERSION_ID:-}" = ubuntu-22.04 ]; then
  git clone -q --depth 1 --branch v1.5.0 https://github.com/libbpf/libbpf "$work/libbpf"
  make -s -C "$work/libbpf/src" -j"$(nproc)" PREFIX="$TG_PREFIX" LIBDIR="$TG_PREFIX/lib" install
  export PKG_CONFIG_PATH="$TG_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  cmake_args+=(-DCMAKE_INSTALL_RPATH="$TG_PREFIX/lib")
fi
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_BUILD_TESTS=OFF \
  -DTG_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX="$TG_PREFIX" "${cmake_args[@]}" >/dev/null
cmake --build "$work/build" -j"$(nproc)"
cmake --install "$work/build" >/dev/null
"$TG_PREFIX/bin/tokio-guard" --version
