#!/usr/bin/env bash
# Scale: tokio-guard on a generated program with many task types (tests/targets/scale: N async
# fns, each spawned as a task of its own type, 2 poll sites each), under a steady load (every
# type re-spawned every 100 ms). Side by side in one run, in interleaved rounds, with uprobe_multi
# links (the default) and one uprobe per probe (TG_UPROBE_SINGLE=1), it times from the wall clock,
# outside tokio-guard:
#   attach    start of tokio-guard -> its "N poll sites ..., M probes attached" line
#   end->exit the load step's last instant (it writes the time) -> tokio-guard exited
#   total     start -> exit
#   released  the load's end (or the SIGINT) -> the last of the run's uprobes closed: the
#             fallback leaves that to a detached process after tokio-guard exits
#   ctrl-c    SIGINT to tokio-guard 1 s into the load -> exit (a separate run)
# and, when results.json has a "timing" object, its phases (ms). Then symbol discovery: the same
# program built with full debug info (profile scale-debug, 100 MB+ at N=1000), against the CI
# build (line tables only): start -> first `--verbose` "poll site" line, printed once the binary
# has been read and every site found, before any probe is attached.
#
# usage: sudo bench/scale.sh [ROUNDS=3] [LOAD_SECONDS=2]
# env:   TG_BIN           tokio-guard (default build/tokio-guard)
#        TG_SCALE_DIR     the scale target's cargo target dir (default build/scale-target, where
#                         the CMake build puts it); the full-debug build goes there too
#        TG_SCALE_BIN     the binary the runs probe (default TG_SCALE_DIR/release/scale-target)
#        TG_SCALE_MODES   default "multi single"
#        TG_SCALE_DEBUG_TASKS  task types of the full-debug build (default 1000); 0 skips it
#        CARGO            default cargo
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

rounds=${1:-3}
secs=${2:-2}
guard=$(realpath "${TG_BIN:-build/tokio-guard}")
dir=$(realpath -m "${TG_SCALE_DIR:-build/scale-target}")
bin=$(realpath -m "${TG_SCALE_BIN:-$dir/release/scale-target}")
modes=${TG_SCALE_MODES:-multi single}
debug_tasks=${TG_SCALE_DEBUG_TASKS:-1000}
cargo=${CARGO:-cargo}
work=$(mktemp -d /tmp/tg-scale-XXXXXX)
chmod 755 "$work" # the target and exec steps run as the user behind sudo
trap 'rm -rf "$work"' EXIT

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
for t in "$guard" "$bin"; do
  [ -x "$t" ] || { echo "bench: $t missing (cmake --build build, or set TG_BIN / TG_SCALE_BIN)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "bench: python3 missing" >&2; exit 1; }

# Every stderr line of tokio-guard with the wall-clock time it arrived.
stamp() { while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }
# The arrival time of the first stamped line matching PATTERN in LOG, or empty.
first_at() { awk -v p="$2" '$0 ~ p { print $1; exit }' "$1"; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%.0f", (b - a) * 1000 }'; }

spec() { # BINARY [ARGS...]: a steady load of every task type for LOAD_SECONDS
  local exe=$1; shift
  local args; args=$(printf ', "%s"' "$@")
  touch "$work/load_end"; chmod 666 "$work/load_end"
  cat > "$work/scale.yaml" <<YAML
version: 1
name: scale
target:
  command: ["$exe"$args]
  ready: { log: "^round=1 ", timeout: 5m }
load:
  - name: steady
    exec: ["/bin/bash", "-c", "sleep $secs; echo \$EPOCHREALTIME > $work/load_end"]
assertions:
  - task: "scale_target::*"
    min_polls: 3
YAML
}

# results.json's timing object as "k=v ..." (empty when this build has none).
timing() {
  python3 - "$1" <<'PY' 2>/dev/null || true
import json, sys
t = json.load(open(sys.argv[1])).get("timing") or {}
print(" ".join(f"{k}={v:.0f}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in t.items()))
PY
}

probe_counts() { # LOG: "sites/probes" from the attach line
  sed -nE 's/.*tokio-guard: ([0-9]+) poll sites in .*, ([0-9]+) probes attached.*/\1\/\2/p' "$1" | head -1
}

# The fallback's uprobes are closed after tokio-guard exits, by a detached "tg-detach" process
# that keeps tokio-guard's command line: waits until none naming OUT is left, so the next run
# does not queue behind its grace periods (and the bench says how long that took).
wait_released() { # OUT
  local p busy=1 args
  while [ $busy = 1 ]; do
    busy=0
    for p in /proc/[0-9]*; do # builtins only: a forked grep would carry OUT itself
      mapfile -d '' args < "$p/cmdline" 2>/dev/null || continue
      if [[ " ${args[*]} " == *" $1 "* ]]; then busy=1; break; fi
    done
    [ $busy = 0 ] || sleep 0.1
  done
}

# One run in MODE; prints "attach end->exit total sites/probes exit [timing]". With SIGINT_AFTER
# (seconds into the load step), interrupts tokio-guard then and prints "ctrl-c exit" instead.
run_guard() { # MODE [SIGINT_AFTER]
  local mode=$1 intr=${2:-} log=$work/guard.log out env=() t0 t_exit t_sig t_rel rc=0
  [ "$mode" = single ] && env=(TG_UPROBE_SINGLE=1)
  : > "$work/load_end"; : > "$log" # no line of the last run may count
  t0=$EPOCHREALTIME
  out=$work/out.${t0/./} # unique: finds this run's detached releaser
  env "${env[@]}" "$guard" run "$work/scale.yaml" --out-dir "$out" 2> >(stamp > "$log") >/dev/null &
  local pid=$!
  if [ -n "$intr" ]; then
    until grep -q 'load step 1/1' "$log" 2>/dev/null; do
      kill -0 $pid 2>/dev/null || break
      sleep 0.02
    done
    sleep "$intr"
    t_sig=$EPOCHREALTIME
    kill -INT $pid
  fi
  wait $pid || rc=$?
  t_exit=$EPOCHREALTIME
  wait_released "$out"
  t_rel=$EPOCHREALTIME
  sleep 0.1 # the stamping loop drains the last lines
  if [ -n "$intr" ]; then
    printf '%s %s %s' "$(ms "$t_sig" "$t_exit")" "$(ms "$t_sig" "$t_rel")" "$rc"
  else
    printf '%s %s %s %s %s %s' "$(ms "$t0" "$(first_at "$log" 'probes attached')")" \
      "$(ms "$(cat "$work/load_end")" "$t_exit")" "$(ms "$(cat "$work/load_end")" "$t_rel")" \
      "$(ms "$t0" "$t_exit")" "$(probe_counts "$log")" "$rc"
  fi
  local t; t=$(timing "$out/results.json")
  [ -n "$t" ] && printf '  [timing ms: %s]' "$t"
  echo
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ]; then
    echo "bench: tokio-guard ($mode) exited $rc:" >&2; tail -5 "$log" >&2
  fi
}

echo "scale: $bin ($(du -m "$bin" | cut -f1) MB), ${secs}s of steady load, $rounds rounds"
spec "$bin" --rounds 0 --every 100
printf '%-6s %-6s %9s %11s %11s %9s %12s %4s\n' mode round attach_ms end-exit_ms released_ms total_ms sites/probes exit
for r in $(seq "$rounds"); do
  # Rotate the order each round: on a shared machine, running first or last is not neutral.
  set -- $modes
  [ $((r % 2)) -eq 0 ] && set -- $(echo $modes | tr ' ' '\n' | tac)
  for m in "$@"; do
    read -r a e rel t pc rc rest <<<"$(run_guard "$m")"
    printf '%-6s %-6s %9s %11s %11s %9s %12s %4s %s\n' "$m" "$r" "$a" "$e" "$rel" "$t" "$pc" "$rc" "$rest"
  done
done
printf '\n%-6s %-6s %12s %11s %4s\n' mode round ctrl-c_ms released_ms exit
for r in $(seq "$rounds"); do
  for m in $modes; do
    read -r c rel rc rest <<<"$(run_guard "$m" 1)"
    printf '%-6s %-6s %12s %11s %4s %s\n' "$m" "$r" "$c" "$rel" "$rc" "$rest"
  done
done

[ "$debug_tasks" -gt 0 ] || exit 0
echo
echo "symbol discovery: building the full-debug variant (TG_SCALE_TASKS=$debug_tasks, profile scale-debug)" >&2
(cd tests/targets/scale && unset CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS &&
  RUSTFLAGS="-C force-frame-pointers=yes" TG_SCALE_TASKS=$debug_tasks CARGO_TARGET_DIR="$dir" \
  "$cargo" build --locked --profile scale-debug --bin scale-target >&2)
dbg=$dir/scale-debug/scale-target
discover() { # BINARY: ms from start to the first "poll site" line (sites found, nothing attached)
  spec "$1" --rounds 1
  local log=$work/discover.log t0 rc=0
  t0=$EPOCHREALTIME
  "$guard" run "$work/scale.yaml" --out-dir "$work/out-discover" --verbose 2> >(stamp > "$log") >/dev/null || rc=$?
  sleep 0.1
  printf '%s %s' "$(ms "$t0" "$(first_at "$log" 'tokio-guard: poll site ')")" "$(probe_counts "$log")"
}
printf '%-44s %8s %6s %12s\n' binary MB round discover_ms
for r in $(seq "$rounds"); do
  for b in "$bin" "$dbg"; do
    read -r d pc <<<"$(discover "$b")"
    printf '%-44s %8s %6s %12s  (sites/probes %s)\n' "${b#$root/}" "$(du -m "$b" | cut -f1)" "$r" "$d" "$pc"
  done
done
