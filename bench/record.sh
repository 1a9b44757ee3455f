#!/bin/sh
# Record path throughput: synthetic events fed straight into the user-space
# consumer (tg_record_on_event, libbpf's ring buffer callback) as fast as it
# takes them, for a few mixes (see bench/record_bench.c). The bar: 1M events/s
# in every mix, so that below that rate only the ring buffer's size decides
# whether events are lost. Exit 1 when a mix's median round is slower.
# As root it then runs ringbuf_drain: the same consumer behind a real BPF ring
# buffer that a BPF program (BPF_PROG_TEST_RUN) fills at 250k to 4M events/s
# and flat out; exit 1 when events were lost at or below 1M/s.
#
#   bench/record.sh [BUILD_DIR] [EVENTS] [ROUNDS]   (defaults: build, 1000000, 5)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cmake --build "$build" --target record_bench >/dev/null
"$build/record_bench" "${2:-1000000}" "${3:-5}"
if [ "$(id -u)" = 0 ]; then
    cmake --build "$build" --target ringbuf_drain >/dev/null
    "$build/ringbuf_drain" 2 0 16      # every event a slice, the default 16 MB ring
    "$build/ringbuf_drain" 2 100 16    # 1 poll in 100 a span with 4 stacks
else
    echo "record.sh: not root: ringbuf_drain (a real BPF ring buffer) skipped" >&2
fi
