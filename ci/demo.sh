#!/usr/bin/env bash
# Quick start: install the dependencies, build tokio-guard and the examples,
# and run the blocking-server example under the probes. Root steps go through
# sudo when you are not root. Extra arguments go to `tokio-guard run`.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

as_root ci/install-deps.sh
export PATH="$PATH:${HOME:-/root}/.cargo/bin"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
as_root build/tokio-guard run examples/blocking-server/guard.yaml "$@"
