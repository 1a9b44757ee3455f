#!/bin/sh
# Loads a trace.json written by tokio-guard's writer into a real viewer:
# speedscope (npm) in headless chromium, served by a local HTTP server, and
# checks what the viewer made of it:
#   - it imported the file as a Trace Event Format profile, without a single
#     nesting complaint (speedscope warns on every X slice that does not nest);
#   - it lists every thread track under the name the M events gave it;
#   - each track's total weight equals the sum of its top-level slices as
#     computed here from the JSON itself;
#   - in its sandwich view, the first track's frames are named by the task
#     names alone (speedscope names X slices by name plus args JSON: the
#     trace's samples are what it imports).
# Usage: run_viewer.sh GEN_TRACE CACHE_DIR. Exit 77 (skipped) without
# chromium, npm or python3, or when speedscope cannot be installed.
set -u

gen=$1
cache=$2
skip() { echo "viewer test skipped: $*" >&2; exit 77; }
fail() { echo "viewer test FAILED: $*" >&2; exit 1; }

. "$(dirname "$0")/find_chromium.sh"
command -v npm >/dev/null 2>&1 || skip "no npm (apt-get install npm)"
command -v python3 >/dev/null 2>&1 || skip "no python3"

mkdir -p "$cache/www" || fail "cannot create $cache"
release=$cache/npm/node_modules/speedscope/dist/release
if [ ! -f "$release/index.html" ]; then
	npm install --prefix "$cache/npm" --no-audit --no-fund 'speedscope@^1.25' >"$cache/npm.log" 2>&1 ||
		skip "npm install speedscope failed (offline?): see $cache/npm.log"
fi
[ -f "$release/index.html" ] || skip "speedscope has no dist/release/index.html"
ln -sfn "$release" "$cache/www/speedscope" || fail "cannot link speedscope"

"$gen" "$cache/www/trace.json" || fail "the generator could not write a trace"

python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$cache/www" >"$cache/http.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT INT TERM
port=
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	port=$(sed -n 's/.* port \([0-9][0-9]*\) .*/\1/p' "$cache/http.log")
	[ -n "$port" ] && break
	sleep 0.25
done
[ -n "$port" ] || fail "the HTTP server did not start: $(cat "$cache/http.log")"

url="http://127.0.0.1:$port"
rm -rf "$cache/chromium-profile"
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
	--user-data-dir="$cache/chromium-profile" --enable-logging=stderr --v=0 \
	--virtual-time-budget=15000 --dump-dom \
	"$url/speedscope/index.html#profileURL=$url/trace.json" \
	>"$cache/dom.html" 2>"$cache/chromium.log" ||
	fail "chromium failed: see $cache/chromium.log"

timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
	--user-data-dir="$cache/chromium-profile" --virtual-time-budget=15000 --dump-dom \
	"$url/speedscope/index.html#profileURL=$url/trace.json&view=sandwich" \
	>"$cache/sandwich.html" 2>>"$cache/chromium.log" ||
	fail "chromium failed (sandwich view): see $cache/chromium.log"

python3 - "$cache/www/trace.json" "$cache/dom.html" "$cache/chromium.log" "$cache/sandwich.html" <<'PY' || exit 1
import html, json, re, sys

trace = json.load(open(sys.argv[1]))
dom = open(sys.argv[2], encoding="utf-8", errors="replace").read()
log = open(sys.argv[3], encoding="utf-8", errors="replace").read()
console = [l for l in log.splitlines() if ":CONSOLE" in l]
problems = []

if not any("Importing as Trace Event Format profile" in l for l in console):
    problems.append("speedscope never said it imported a Trace Event Format profile")
for l in console:
    if re.search(r"Tried to end|still open|was on the top of the stack|Uncaught|Failed to", l):
        problems.append("viewer complained: " + l.strip())

ev = trace["traceEvents"]
pid = ev[0]["pid"]
process = next(e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "process_name")
threads = {e["tid"]: e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
weight = {}
for tid in threads:
    xs = sorted((e for e in ev if e["ph"] == "X" and e["tid"] == tid),
                key=lambda e: (e["ts"], -e["dur"]))
    end, total = -1.0, 0.0
    for e in xs:  # top-level slices: not inside the previous top-level one
        if e["ts"] >= end:
            total += e["dur"]
            end = e["ts"] + e["dur"]
    if xs:
        weight[tid] = total

# speedscope lists each track as "PROCESS (pid P), THREAD (tid T)" with its
# total weight in the next table cell.
text = html.unescape(re.sub(r"<[^>]*>", "\n", dom))
lines = [l.strip() for l in text.splitlines() if l.strip()]
for tid, us in sorted(weight.items()):
    label = "%s (pid %d), %s (tid %d)" % (process, pid, threads[tid], tid)
    if label not in lines:
        problems.append("no track %r in the viewer" % label)
        continue
    # the toolbar names the current track too: the table's cell is the one
    # that reads as a weight ("6.50ms", "3.31s": two decimals in its unit)
    unit_us = {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6, "min": 6e7}
    shown = [re.fullmatch(r"([0-9.]+)(ns|µs|us|ms|s|min)", lines[i + 1])
             for i, l in enumerate(lines[:-1]) if l == label]
    shown = [m for m in shown if m]
    if len(shown) != 1:
        problems.append("track %r: no single weight shown next to it" % threads[tid])
        continue
    value, unit = float(shown[0].group(1)), shown[0].group(2)
    if abs(value * unit_us[unit] - us) > 0.006 * unit_us[unit]:
        problems.append("track %r: viewer shows %s, the trace's top-level slices add up to %.3fus"
                        % (threads[tid], shown[0].group(0), us))
# the sandwich view lists the first track's frames by name: each must be a
# task name alone, never with the args JSON speedscope appends to X slices
sandwich = open(sys.argv[4], encoding="utf-8", errors="replace").read()
rows = [l.strip() for l in html.unescape(re.sub(r"<[^>]*>", "\n", sandwich)).splitlines() if l.strip()]
first = min(weight) if weight else None  # speedscope shows the lowest pid:tid first
names = {e["name"] for e in ev if e["ph"] == "X" and e["tid"] == first and "\n" not in e["name"]}
if "Symbol Name" not in rows:
    problems.append("the sandwich view shows no symbol table")
else:
    table = rows[rows.index("Symbol Name") + 1:]
    for n in sorted(names):
        if n not in table:
            problems.append("sandwich view: no frame named %r (track %r)" % (n, threads.get(first)))
    for l in table:
        if '"task_id"' in l or '{"' in l:
            problems.append("sandwich view: a frame label holds args JSON: %r" % l[:120])
if not re.search(r"<title>[^<]*trace\.json", dom):
    problems.append("the page title does not name the loaded trace")
for p in problems:
    print("viewer test FAILED: " + p, file=sys.stderr)
if problems:
    sys.exit(1)
print("speedscope imported %d tracks with the expected weights; frames named %s" % (len(weight), sorted(names)))
PY
