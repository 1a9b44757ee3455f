#!/usr/bin/env bash
# Builds tokio-guard and its examples, then runs every test: unit tests
# (cmocka) and end-to-end tests with real eBPF. The build runs as you; the
# tests run as root (through sudo when you are not root), since loading BPF
# programs needs it. Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
export PATH="$PATH:${HOME:-/root}/.cargo/bin"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$(nproc)"

run_as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    run_as_root=(sudo --preserve-env=PATH)
  else
    echo "ci/test.sh: not root and no sudo: the end-to-end tests will be skipped" >&2
  fi
fi
(cd "$build" && "${run_as_root[@]}" ctest --output-on-failure "$@")
# a full run also runs the unit tests and two end-to-end tests under ASan + UBSan (ci/sanitize.sh)
if [ $# -eq 0 ]; then
  ci/sanitize.sh
fi
