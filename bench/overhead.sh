#!/usr/bin/env bash
# Overhead of probing, measured side by side in one run: the blocking-server
# example (axum 0.8) under wrk, for two handlers (/hello: a few microseconds, the worst
# case; /work?us=50: about 50us of CPU, a realistic request), each
#   unprobed | under tokio-guard (default settings) | under a bpftrace script
#   with the same entry and return uprobes on every raw::poll instance,
# in interleaved rounds, reported as ratios to unprobed. With TG_BENCH_OPTIN=1 a
# fourth column runs tokio-guard with the opt-in probes on: a function selector
# (uprobe on every call of the handler's function); scheduling delay (uprobes
# on task wakes) is on by default, in every column but sched-off. With TG_BIN_BASE=path/to/an/older/tokio-guard a fifth column
# runs that build with default settings: a probe change measured against the
# build before it, side by side. With TG_BENCH_DWARF=1 a column runs tokio-guard
# with probe.unwind: dwarf on the same binary (its stacks copied and unwound
# with CFI, as for a build without frame pointers), beside the default
# frame-pointer walk. With TG_BENCH_SCHED=1 a column runs tokio-guard with
# probe.scheduling_delay: off: the cost of the default-on wake probes (and each
# span's cascade) is the tokio-guard column against this one.
# With TG_BENCH_CPU=1 two columns run tokio-guard with
# probe.cpu_profile at 99 and at 999 Hz (every thread sampled, stacks counted).
# With TG_BENCH_HEAP=1 a column runs tokio-guard with
# probe.heap: true (uprobes on the Rust allocator: a trap per allocation and free).
#
# usage: sudo bench/overhead.sh [ROUNDS=3] [SECONDS=5]
# needs: a build (ci/test.sh or cmake), wrk, bpftrace (TG_WITH_BENCH=1 ci/install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
secs=${2:-5}
guard=${TG_BIN:-build/tokio-guard}
server=examples/target/release/blocking-server
port=${TG_BENCH_PORT:-3390}
conns=32
work=$(mktemp -d /tmp/tg-bench-XXXXXX)
trap 'pkill -f "blocking-server --port $port" 2>/dev/null || true; rm -rf "$work"' EXIT

for t in wrk bpftrace "$guard" "$server"; do
  command -v "$t" >/dev/null 2>&1 || [ -x "$t" ] || { echo "bench: $t missing" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }

# bpftrace attaches uprobes through tracefs, which a fresh machine lacks.
if [ ! -e /sys/kernel/tracing/uprobe_events ]; then
  mount -t tracefs nodev /sys/kernel/tracing
fi

wrk_rps() { awk '/^Requests\/sec:/ {print $2}'; }

wait_port() {
  for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0
    sleep 0.05
  done
  echo "bench: server did not start" >&2; return 1
}

run_plain() { # path
  "$server" --port $port >/dev/null 2>&1 &
  local pid=$!
  wait_port
  wrk -t1 -c$conns -d${secs}s "http://127.0.0.1:$port$1" | wrk_rps
  kill $pid; wait $pid 2>/dev/null || true
}

run_guard() { # path [assertions YAML, or "none" for builds without assertions] [binary] [probe YAML]
  local asserts="assertions: ${2:-[]}" bin=${3:-$guard} probe=${4:-}
  [ "${2:-}" = none ] && asserts=
  [ -n "$probe" ] && probe="probe: $probe"
  cat > "$work/guard.yaml" <<YAML
version: 1
name: bench
$asserts
$probe
target:
  command: ["$PWD/$server", "--port", "$port"]
  ready: { tcp: "127.0.0.1:$port", timeout: 10s }
load:
  - exec: ["wrk", "-t1", "-c$conns", "-d${secs}s", "http://127.0.0.1:$port$1"]
    timeout: 2m
YAML
  "$bin" run "$work/guard.yaml" --out-dir "$work/out" >/dev/null 2>"$work/guard.log" || {
    echo "bench: tokio-guard failed:" >&2; tail -5 "$work/guard.log" >&2; return 1; }
  wrk_rps < "$work/guard.log"
}

run_bpftrace() { # path
  "$server" --port $port >/dev/null 2>&1 &
  local pid=$!
  wait_port
  local bin="$PWD/$server"
  bpftrace -p $pid -e "
    uprobe:$bin:*3raw4poll* { @start[tid] = nsecs; }
    uretprobe:$bin:*3raw4poll* /@start[tid]/ { @poll_ns = hist(nsecs - @start[tid]); delete(@start[tid]); }
  " >"$work/bt.log" 2>&1 &
  local bt=$!
  for _ in $(seq 200); do grep -q '^Attaching' "$work/bt.log" && break; sleep 0.05; done
  sleep 1 # attaching is announced before it is done
  wrk -t1 -c$conns -d${secs}s "http://127.0.0.1:$port$1" | wrk_rps
  kill -INT $bt; wait $bt 2>/dev/null || true
  kill $pid; wait $pid 2>/dev/null || true
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }'; }

# opt-in probes: every call of the handlers' own functions, and every wake
optin='[{ function: "blocking_server::*", max_blocking_spans: 1000000 }, { p99_scheduling_delay: 1h }]'
modes='plain guard bpftrace'
[ "${TG_BENCH_OPTIN:-0}" = 1 ] && modes="$modes optin"
[ -n "${TG_BIN_BASE:-}" ] && modes="$modes base"
[ "${TG_BENCH_DWARF:-0}" = 1 ] && modes="$modes dwarf"
[ "${TG_BENCH_SCHED:-0}" = 1 ] && modes="$modes schedoff"
[ "${TG_BENCH_CPU:-0}" = 1 ] && modes="$modes cpu99 cpu999"
[ "${TG_BENCH_HEAP:-0}" = 1 ] && modes="$modes heap"
nm=$(echo $modes | wc -w)
printf '%-8s %-6s %12s %12s %12s %12s %12s %12s %12s %12s %12s %12s\n' handler round unprobed tokio-guard bpftrace opt-in base dwarf sched-off cpu99 cpu999 heap
for path in ${TG_BENCH_PATHS:-/hello /work?us=50}; do
  for r in $(seq "$rounds"); do
    # Rotate the order each round: on a shared machine, running first or last is not neutral.
    d=- e=- f=- g=- h=- i=- j=-
    for m in $(echo $modes | tr ' ' '\n' | awk -v r="$r" -v n="$nm" '{ l[NR] = $0 } END { for (i = 0; i < n; i++) print l[(i + r) % n + 1] }'); do
      case $m in
        plain) a=$(run_plain "$path") ;;
        guard) b=$(run_guard "$path") ;;
        bpftrace) c=$(run_bpftrace "$path") ;;
        optin) d=$(run_guard "$path" "$optin") ;;
        base) e=$(run_guard "$path" none "$TG_BIN_BASE") ;;
        dwarf) f=$(run_guard "$path" "[]" "$guard" "{ unwind: dwarf }") ;;
        schedoff) g=$(run_guard "$path" "[]" "$guard" "{ scheduling_delay: off }") ;;
        cpu99) h=$(run_guard "$path" "[]" "$guard" "{ cpu_profile: 99 }") ;;
        cpu999) i=$(run_guard "$path" "[]" "$guard" "{ cpu_profile: 999 }") ;;
        heap) j=$(run_guard "$path" "[]" "$guard" "{ heap: true }") ;;
      esac
    done
    printf '%-8s %-6s %12s %12s %12s %12s %12s %12s %12s %12s %12s %12s   ratios: tokio-guard %s  bpftrace %s  opt-in %s  base %s  dwarf %s  sched-off %s  cpu99 %s  cpu999 %s  heap %s\n' \
      "${path%%\?*}" "$r" "$a" "$b" "$c" "$d" "$e" "$f" "$g" "$h" "$i" "$j" "$(ratio "$a" "$b")" "$(ratio "$a" "$c")" \
      "$([ "$d" = - ] && echo - || ratio "$a" "$d")" "$([ "$e" = - ] && echo - || ratio "$a" "$e")" \
      "$([ "$f" = - ] && echo - || ratio "$a" "$f")" "$([ "$g" = - ] && echo - || ratio "$a" "$g")" \
      "$([ "$h" = - ] && echo - || ratio "$a" "$h")" "$([ "$i" = - ] && echo - || ratio "$a" "$i")" \
      "$([ "$j" = - ] && echo - || ratio "$a" "$j")"
  done
done
