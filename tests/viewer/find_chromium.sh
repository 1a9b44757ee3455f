# Sourced by the viewer tests: CHROMIUM, else the first browser on PATH, in
# $chromium; skips (their skip function) when there is none.
chromium=${CHROMIUM:-}
for c in chromium chromium-browser google-chrome; do
	[ -n "$chromium" ] && break
	chromium=$(command -v "$c" 2>/dev/null || true)
done
[ -n "$chromium" ] || skip "no chromium (apt-get install chromium)"
