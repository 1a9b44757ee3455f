#!/bin/sh
# Record path throughput: synthetic events fed straight into the user-space
# consumer (tg_record_on_event, libbpf's ring buffer callback) as fast as it
# takes them, for a few mixes (see bench/record_bench.c). The bar: 1M events/s
# in every mix, so that below that rate only the ring buffer's size decides
# whether events are lost. Exit 1 when a mix's median round is slower.
#
#   bench/record.sh [BUILD_DIR] [EVENTS] [ROUNDS]   (defaults: build, 1000000, 5)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cmake --build "$build" --target record_bench >/dev/null
"$build/record_bench" "${2:-1000000}" "${3:-5}"
