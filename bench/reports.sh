#!/bin/sh
# Report writing after a big run: a synthetic 60 s run with a million polls
# (every one a trace slice, one in 2000 a blocking span with stacks). Budget:
# symbolizing, checking and writing every report in under 2 s; trace.json
# under 50 MB. Exit 1 when over budget.
#
#   bench/reports.sh [BUILD_DIR] [POLLS]      (defaults: build, 1000000)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
polls=${2:-1000000}
out=$(mktemp -d /tmp/tg-report-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT INT TERM
cmake --build "$build" --target report_bench >/dev/null
"$build/report_bench" "$polls" "$out"
