#!/usr/bin/env bash
# Installs everything tokio-guard needs to build, test and run its examples,
# from Debian's packages only (the Rust crates of the examples included).
# Run as root on Debian 12 or a recent Ubuntu.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "ci/install-deps.sh: run as root (sudo ci/install-deps.sh)" >&2
  exit 1
fi

packages=(
  # build
  build-essential cmake pkg-config clang llvm bpftool
  # libraries
  libbpf-dev libelf-dev libdw-dev libyaml-dev libcjson-dev libiberty-dev
  libcurl4-openssl-dev libxml2-dev
  # tests
  libcmocka-dev curl procps
  # the Rust examples, built offline from Debian's crates
  librust-tokio-dev librust-hyper-dev
)
# Benchmarks (bench/run.sh) also want: wrk bpftrace
if [ "${TG_WITH_BENCH:-0}" = 1 ]; then
  packages+=(wrk bpftrace)
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"

# A Rust toolchain: rustup's when present, Debian's cargo otherwise.
if ! command -v cargo >/dev/null 2>&1 && [ ! -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
  apt-get install -y -q --no-install-recommends cargo rustc
fi
