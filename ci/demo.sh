#!/usr/bin/env bash
# Quick start: install the dependencies, build tokio-guard and the examples,
# and run the blocking-server example under the probes. Root steps go through
# sudo when you are not root. Extra arguments go to `tokio-guard run`.
# The example blocks on purpose, so its assertions fail (tokio-guard exits 1):
# that is the demo working. Any other exit code fails this script.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

as_root ci/install-deps.sh
export PATH="$PATH:${HOME:-/root}/.cargo/bin"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
status=0
as_root build/tokio-guard run examples/blocking-server/guard.yaml "$@" || status=$?
if [ "$status" -eq 1 ]; then
	echo "demo: exit 1 as intended: the example's assertions caught its blocking."
	echo "demo: open tokio-guard-out/report.html in a browser; junit.xml, results.json and trace.json (https://ui.perfetto.dev) are beside it"
	exit 0
fi
exit "$status"
