#!/usr/bin/env bash
# Does `max_poll: 5ms` flake on a well-behaved server when the load generator
# shares the machine's cores? Runs the blocking-server example's /hello handler
# under wrk (32 connections, on the same 2 cores)
# RUNS times under tokio-guard with `max_poll: 5ms` and `max_blocking_spans: 0`,
# and prints, per run, the worst poll by own time (what the limit checks) and by
# wall time (what it checked before: own time plus waiting for a CPU), then how
# many runs failed each way. Both columns come from the same runs.
#
# Not every long poll of a busy server is the machine's fault: a connection
# task whose client sends the next request before the response's poll ends
# serves it in the same poll, up to Tokio's cooperative budget (128 I/O
# operations), so a ~50us handler under a closed-loop client can hold a poll
# for several ms of its own CPU. That is measured, not excused.
#
# usage: sudo bench/max_poll_flake.sh [RUNS=10] [SECONDS=5]
# needs: a build (ci/test.sh or cmake), wrk
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-10}
secs=${2:-5}
guard=${TG_BIN:-build/tokio-guard}
server=$PWD/examples/target/release/blocking-server
work=$(mktemp -d /tmp/tg-flake-XXXXXX)
trap 'rm -rf "$work"' EXIT

for t in wrk "$guard" "$server" python3; do
  command -v "$t" >/dev/null 2>&1 || [ -x "$t" ] || { echo "bench: $t missing" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/spec.yaml" <<YAML
version: 1
name: max-poll-flake
target:
  command: ["$server", "--port", "$port", "--workers", "2"]
  ready: { tcp: "127.0.0.1:$port", timeout: 10s }
load:
  - exec: ["wrk", "-t1", "-c32", "-d${secs}s", "http://127.0.0.1:$port/hello"]
    timeout: 60s
assertions:
  - max_poll: 5ms
  - max_blocking_spans: 0
YAML

own_fail=0 wall_fail=0
printf '%-4s %-6s %12s %12s  %-36s %s\n' run exit "max own" "max wall" "worst own poll: on/off-CPU, waiting" "task"
for i in $(seq "$runs"); do
  rc=0
  "$guard" run "$work/spec.yaml" --out-dir "$work/out" --quiet >"$work/log" 2>&1 || rc=$?
  read -r own wall task split < <(python3 - "$work/out/results.json" "$work/out/trace.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = [x for x in r["tasks"] if x["kind"] != "blocking_pool"]
own = max(t, key=lambda x: x["max_poll_ns"])
wall = max(t, key=lambda x: x.get("max_poll_wall_ns", x["max_poll_ns"]))
# the worst poll's split, from its trace slice (polls >= trace_min_poll are there)
xs = [e for e in json.load(open(sys.argv[2]))["traceEvents"] if e.get("ph") == "X" and "own_us" in e.get("args", {})]
w = max(xs, key=lambda e: e["args"]["own_us"], default=None)
split = "on=%.2fms,off=%.2fms,runq=%.2fms" % (w["args"]["on_cpu_us"] / 1e3, w["args"]["off_cpu_us"] / 1e3,
                                          w["args"]["runqueue_us"] / 1e3) if w else "-"
print(own["max_poll_ns"], wall.get("max_poll_wall_ns", wall["max_poll_ns"]), own["name"].replace(" ", "_"), split)
PY
)
  [ "$own" -gt 5000000 ] && own_fail=$((own_fail + 1))
  [ "$wall" -gt 5000000 ] && wall_fail=$((wall_fail + 1))
  printf '%-4s %-6s %10.3fms %10.3fms  %-36s %s\n' "$i" "$rc" "$(echo "$own/1000000" | bc -l)" \
    "$(echo "$wall/1000000" | bc -l)" "$split" "$task"
done
echo "max_poll 5ms over $runs runs: $own_fail failed on own time (the limit), $wall_fail would have failed on wall time"
