#!/bin/sh
# report.html of a real run, rendered in headless chromium and checked for
# content, not only that it loads:
#   - tokio-guard runs examples/blocking-server (real eBPF, real HTTP load) with
#     report_html.yaml, which must fail (exit 1) on its blocking spans;
#   - the page rebuilt from the saved results.json and trace.json alone (what
#     `tokio-guard report` does) is the same file;
#   - it names no http(s) URL in a src or href, and renders with every host
#     unresolvable and no network request in chromium's net log;
#   - after its script ran (--dump-dom): the verdict, every failed check, and a
#     drawn box for every blocking span of results.json, labelled
#     "task — culprit" from results.json's own task and culprit;
#   - the screenshot's pixels inside each drawn box are the highlight colour;
#   - a click on a span (interact.js, on a copy) shows its culprit and stack,
#     and the wheel zooms the timeline in.
# Usage: run_report_html.sh TOKIO_GUARD MAKE_HTML SOURCE_DIR WORK_DIR.
# Exit 77 (skipped) without chromium, python3, root or the example binary.
set -u

tg=$1
make_html=$2
src=$(cd "$3" && pwd) || exit 1 # the spec names the server from its own folder
work=$4
skip() { echo "report.html test skipped: $*" >&2; exit 77; }
fail() { echo "report.html test FAILED: $*" >&2; exit 1; }

. "$(dirname "$0")/find_chromium.sh"
command -v python3 >/dev/null 2>&1 || skip "no python3"
[ "$(id -u)" = 0 ] || skip "the probes need root (or tokio-guard with setcap)"
server=$src/examples/target/release/blocking-server
[ -x "$server" ] || skip "no $server (build the examples first)"

rm -rf "$work" && mkdir -p "$work" || fail "cannot create $work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s|@SERVER@|$server|g" -e "s|@PORT@|$port|g" "$src/tests/viewer/report_html.yaml" >"$work/guard.yaml" ||
	fail "cannot write the spec"

"$tg" run "$work/guard.yaml" --out-dir "$work/out" >"$work/run.log" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "tokio-guard exited $rc, expected 1 (failed checks): $(tail -20 "$work/run.log")"
page=$work/out/report.html
[ -s "$page" ] || fail "no report.html written"
grep -q "report.html" "$work/run.log" || fail "the summary does not name report.html"

"$make_html" "$work/rebuilt.html" "$work/out/results.json" "$work/out/trace.json" ||
	fail "cannot rebuild the page from the saved files"
cmp -s "$page" "$work/rebuilt.html" || fail "the page rebuilt from results.json and trace.json differs"

# --virtual-time-budget: the page's script has run before the DOM is dumped
shoot() { # OUT_PREFIX URL EXTRA_FLAGS...
	out=$1
	shift
	prof=$(mktemp -d "$work/profile.XXXXXX")
	url=$1
	shift
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
		--host-resolver-rules="MAP * ~NOTFOUND" --hide-scrollbars --window-size=1400,3200 \
		--virtual-time-budget=5000 --enable-logging=stderr --v=0 "$@" "$url" \
		>"$out.out" 2>"$out.log"
}
shoot "$work/dom" "file://$page" --dump-dom --log-net-log="$work/netlog.json" || fail "chromium failed: see $work/dom.log"
mv "$work/dom.out" "$work/dom.html"
shoot "$work/shot" "file://$page" --screenshot="$work/report.png" || fail "chromium failed: see $work/shot.log"
[ -s "$work/report.png" ] || fail "chromium wrote no screenshot"
python3 -c 'import sys; page, js, out = sys.argv[1:4]; t = open(page).read(); i = t.rindex("</body>")
open(out, "w").write(t[:i] + "<script>" + open(js).read() + "</script>" + t[i:])' \
	"$page" "$src/tests/viewer/interact.js" "$work/interact.html" || fail "cannot write interact.html"
shoot "$work/interact" "file://$work/interact.html" --dump-dom || fail "chromium failed: see $work/interact.log"

python3 "$src/tests/viewer/check_report_html.py" "$work/out/results.json" "$page" "$work/dom.html" \
	"$work/report.png" "$work/netlog.json" "$work/dom.log" "$work/interact.out" || exit 1
echo "screenshot: $work/report.png"
