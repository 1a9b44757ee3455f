#!/bin/sh
# CPU used by tokio-guard's load driver (http step, open model, libcurl multi)
# at 1000 and 2000 requests/s, against the blocking-server example's /hello.
# Budget: under 20% of one core at 1000 requests/s.
#
#   bench/load_driver.sh [BUILD_DIR] [SECONDS]     (defaults: build, 10)
#
# Needs the example built (examples/build.sh, or cmake with TG_BUILD_EXAMPLES=ON).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
secs=${2:-10}
server=$root/examples/target/release/blocking-server
port=${TG_BENCH_PORT:-38080}

[ -x "$server" ] || { echo "load_driver.sh: $server not built (run examples/build.sh)" >&2; exit 2; }
cmake --build "$build" --target load_bench >/dev/null
"$server" --port "$port" >/dev/null 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null; wait $spid 2>/dev/null || true' EXIT INT TERM
i=0
until curl -fs "http://127.0.0.1:$port/hello" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "load_driver.sh: server did not start" >&2; exit 1; }
	sleep 0.1
done
status=0
for rate in 1000 2000; do
	out=$("$build/load_bench" "http://127.0.0.1:$port/hello" "$rate" "$secs") || status=1
	echo "$out"
	if [ "$rate" = 1000 ]; then
		pct=$(echo "$out" | sed -n 's/.*cpu_pct=\([0-9.]*\).*/\1/p')
		awk -v p="$pct" 'BEGIN { exit !(p < 20) }' || { echo "FAIL: ${pct}% of a core at 1000/s (budget 20%)"; status=1; }
	fi
done
exit $status
