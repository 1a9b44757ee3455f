#!/bin/sh
# User-space unwinding speed for probe.unwind: dwarf (bench/unwind_bench.c): a
# copied stack unwound with libdw's CFI walk over and over, at two depths.
#
#   bench/unwind.sh [BUILD_DIR] [STACKS] [ROUNDS]   (defaults: build, 20000, 5)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cmake --build "$build" --target unwind_bench >/dev/null
for depth in 40 80; do
    "$build/unwind_bench" "$depth" "${2:-20000}" "${3:-5}"
done
