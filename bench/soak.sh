#!/usr/bin/env bash
# Memory over a long run: tokio-guard's RSS at steady load, sampled every
# SAMPLE seconds, on the blocking-server example with
#   - ordinary traffic over the trace floor (/work?us=200 at 300/s: a trace
#     slice per request, so the slice budget fills and its floor rises),
#   - a blocking sleep a second (/sleep?ms=20: spans with off-CPU stacks),
#   - a CPU hog a second (/cpu?ms=15: spans with on-CPU samples at 999 Hz).
# The bar (issue 9): RSS growth < 10% between minute 5 and the end of a
# 30-minute run. Prints the RSS series, then the figures; exit 1 when the bar
# is missed.
#
# usage: sudo bench/soak.sh [MINUTES=30] [SAMPLE=10]
# needs: a build (ci/test.sh or cmake) and the examples (examples/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-30}
sample=${2:-10}
guard=${TG_BIN:-build/tokio-guard}
server=examples/target/release/blocking-server
port=${SOAK_PORT:-3391}
warm=$(( minutes >= 10 ? 5 : minutes / 3 ))   # minutes of warm-up before the baseline
work=$(mktemp -d /tmp/tg-soak-XXXXXX)
trap 'kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; pkill -f "blocking-server --port $port" 2>/dev/null || true' EXIT

for t in "$guard" "$server"; do
  [ -x "$t" ] || { echo "soak: $t missing (build first)" >&2; exit 1; }
done
secs=$(( minutes * 60 ))
cat >"$work/soak.yaml" <<YAML
version: 1
name: soak
target:
  command: ["$PWD/$server", "--port", "$port", "--workers", "2"]
  ready: { tcp: "127.0.0.1:$port", timeout: 10s }
probe:
  blocking_threshold: 10ms
  sample_rate: 999
report:
  dir: $work/out
load:
  - name: steady
    parallel:
      - name: traffic
        http: { url: "http://127.0.0.1:$port/work?us=200" }
        rate: 300/s
        duration: ${secs}s
      - name: sleeper
        http: { url: "http://127.0.0.1:$port/sleep?ms=20" }
        rate: 1/s
        duration: ${secs}s
      - name: hog
        http: { url: "http://127.0.0.1:$port/cpu?ms=15" }
        rate: 1/s
        duration: ${secs}s
assertions: []
YAML

"$guard" run "$work/soak.yaml" --quiet 2>"$work/stderr" &
pid=$!
echo "soak: ${minutes} min, RSS every ${sample}s (tokio-guard pid $pid, output in $work)"
start=$(date +%s)
: >"$work/rss"
while kill -0 "$pid" 2>/dev/null; do
  # VmRSS, then its parts: anonymous (the record), file-backed (binaries, the ring buffer's pages)
  rss=$(awk '/^(VmRSS|RssAnon|RssFile):/ {printf "%s ", $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && printf '%d %s\n' $(( $(date +%s) - start )) "$rss" | tee -a "$work/rss"
  sleep "$sample"
done
wait "$pid" || true

python3 - "$work" "$warm" "$sample" <<'PY'
import json, sys
work, warm = sys.argv[1], int(sys.argv[2])
rows = [tuple(map(int, l.split()))[:2] for l in open(f"{work}/rss") if len(l.split()) >= 2]
d = json.load(open(f"{work}/out/results.json"))
tm = d.get("timing", {})
# samples while the load ran: the teardown frees memory and proves nothing
load_end = sum(tm.get(k, 0) for k in ("find_sites_ms", "attach_ms", "ready_ms", "load_ms")) / 1000
sample = int(sys.argv[3])
base = [kb for t, kb in rows if t >= warm * 60 and (not tm or t <= load_end - sample)]
if len(base) < 2:
    sys.exit("soak: too few samples after the warm-up")
first, last, peak = base[0], base[-1], max(base)
growth = (last - first) / first * 100
p = d["probe"]
print(f"soak: RSS at minute {warm}: {first/1024:.1f} MB, at the end: {last/1024:.1f} MB, "
      f"peak after warm-up: {peak/1024:.1f} MB: growth {growth:+.1f}%")
print(f"soak: {p['polls']} polls, {len(d['blocking_spans'])} spans listed, lost events {p['lost_events']}, "
      f"capped {json.dumps(p.get('capped', {}))}")
print(f"soak: timing {json.dumps(d.get('timing', {}))}")
sys.exit(0 if growth < 10 else 1)
PY
