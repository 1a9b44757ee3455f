#!/usr/bin/env python3
"""Checks a rendered report.html against the run's own results.json (see
run_report_html.sh). Usage: RESULTS PAGE DOM PNG NETLOG CHROMIUM_LOG"""
import json
import re
import struct
import sys
import zlib
from html.parser import HTMLParser

results_path, page_path, dom_path, png_path, netlog_path, log_path, interact_path = sys.argv[1:8]
results = json.load(open(results_path))
page = open(page_path, encoding="utf-8").read()
dom = open(dom_path, encoding="utf-8", errors="replace").read()
problems = []


class Dom(HTMLParser):
    """The elements the test reads: by id, the check rows, the span boxes."""

    def __init__(self):
        super().__init__()
        self.stack, self.text, self.checks, self.boxes, self.span_rows = [], {}, [], [], []
        self.body, self.tasks = {}, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if tag == "tr" and "data-check" in a:
            self.checks.append(a)
        if tag == "tr" and "data-span-task" in a:
            self.span_rows.append(a)
        if tag == "tr" and "data-task" in a:
            self.tasks.append(a)
        if tag == "i" and "data-label" in a:
            self.boxes.append(a)
        if tag not in ("br", "img", "meta", "input", "i", "link"):
            self.stack.append(a.get("id"))

    def handle_endtag(self, tag):
        if tag not in ("br", "img", "meta", "input", "i", "link") and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for i in self.stack:
            if i:
                self.text[i] = self.text.get(i, "") + data


d = Dom()
d.feed(dom)
if d.body.get("data-rendered") != "1":
    problems.append("the page's script did not finish (no data-rendered on <body>)")

# the verdict, and every failed check as a failed row
verdict = d.text.get("verdict", "").strip()
want = {0: "PASSED", 1: "FAILED"}.get(results["exit_code"], "ERROR")
if not verdict.startswith(want):
    problems.append("verdict %r, results.json says exit %d (%s)" % (verdict, results["exit_code"], want))
failed = [a for a in results["assertions"] if a["status"] == "failed"]
if not failed:
    problems.append("the run has no failed check: the test's spec must fail")
rows = {(c["data-check"], c["data-status"]) for c in d.checks}
for a in results["assertions"]:
    if (a["name"], a["status"]) not in rows:
        problems.append("check %r (%s) is not in the checks table" % (a["name"], a["status"]))

# every task with its poll times, as a histogram when results.json has one
shown_tasks = {t["data-task"]: t.get("data-hist", "") for t in d.tasks}
for t in results["tasks"]:
    if t["name"] not in shown_tasks:
        problems.append("task %r is not in the tasks table" % t["name"])
    elif t.get("poll_hist") and shown_tasks[t["name"]] != str(len(t["poll_hist"])):
        problems.append("task %r: histogram of %s buckets drawn, results.json has %d"
                        % (t["name"], shown_tasks[t["name"]], len(t["poll_hist"])))

# every blocking span drawn and labelled "task — culprit"
spans = results["blocking_spans"]
if not spans:
    problems.append("the run has no blocking span: nothing to look for")
span_rows = {(r["data-span-task"], r["data-span-culprit"]) for r in d.span_rows}
for s in spans:
    culprit = (s.get("culprit") or {}).get("function", "")
    label = s["task"] + (" — " + culprit if culprit else "")
    mine = [b for b in d.boxes if int(b["data-tid"]) == s["tid"] and
            abs(float(b["data-ts"]) * 1e3 - s["start_ns"]) < 2000]
    if len(mine) != 1:
        problems.append("span %s at %dns on tid %d: %d boxes drawn, want 1" % (label, s["start_ns"], s["tid"], len(mine)))
        continue
    if mine[0]["data-label"] != label:
        problems.append("span at %dns labelled %r, results.json says %r" % (s["start_ns"], mine[0]["data-label"], label))
    if (s["task"], culprit) not in span_rows:
        problems.append("span %r is not in the blocking spans table" % label)


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace or ctype not in (2, 6):
                raise ValueError("PNG type %d/%d/%d not handled" % (depth, ctype, interlace))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, out, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(line)
        prev = line
    return w, h, bpp, out


def rgb(hexcolour):
    return tuple(int(hexcolour[i:i + 2], 16) for i in (1, 3, 5))


w, h, bpp, px = png_pixels(png_path)
colours = {b["data-color"] for b in d.boxes}
highlight = rgb("#e5484d")
if not any(b["data-color"].lower() == "#e5484d" for b in d.boxes):
    problems.append("no span box has the highlight colour #e5484d")
checked = 0
for b in d.boxes:
    x, y, bw, bh = (int(b[k]) for k in ("data-x", "data-y", "data-w", "data-h"))
    want_c = rgb(b["data-color"])
    # where boxes of other colours overlap, either colour is right
    ok = {want_c} | {rgb(o["data-color"]) for o in d.boxes if o is not b and
                     int(o["data-x"]) <= x + bw and x <= int(o["data-x"]) + int(o["data-w"]) and
                     int(o["data-y"]) == y}
    for (qx, qy) in ((x + 1, y + 1), (x + bw - 2, y + bh - 2)):
        if not (0 <= qx < w and 0 <= qy < h):
            problems.append("span box %r at (%d,%d) is outside the %dx%d screenshot" % (b["data-label"], qx, qy, w, h))
            continue
        got = tuple(px[qy][qx * bpp:qx * bpp + 3])
        if not any(max(abs(g - c) for g, c in zip(got, o)) <= 6 for o in ok):
            problems.append("span %r: pixel (%d,%d) is %s, want %s" % (b["data-label"], qx, qy, got, b["data-color"]))
        checked += 1

# no network: nothing to fetch in the file, nothing fetched by chromium
for m in re.finditer(r"""\b(?:src|href|action)\s*=\s*["']?\s*(?:https?:|wss?:)?//""", page, re.I):
    problems.append("the page fetches something: %r" % page[m.start():m.start() + 80])
# The browser's own services (updates, accounts) ask with no page origin
# ("not an origin"); whatever a page asks for carries its origin ("null" for
# a file:// page). Chromium may leave the log's closing brackets unwritten.
text = open(netlog_path, encoding="utf-8", errors="replace").read().rstrip()
try:
    netlog = json.loads(text)
except ValueError:
    netlog = json.loads(text.rstrip(",") + "]}")
kinds = {v: k for k, v in netlog["constants"]["logEventTypes"].items()}
starts = [e.get("params", {}) for e in netlog["events"] if kinds.get(e["type"]) == "URL_REQUEST_START_JOB"]
fetched = sorted({p["url"] for p in starts if p.get("url") and p.get("initiator") != "not an origin" and
                  not p["url"].startswith("file:")})
if fetched:
    problems.append("the page made network requests: %s" % ", ".join(fetched[:5]))
log = open(log_path, encoding="utf-8", errors="replace").read()
for line in log.splitlines():
    if ":CONSOLE" in line and re.search(r"Uncaught|Error|Refused", line):
        problems.append("console: " + line.strip())

# a click on the first span shows it; the wheel zoomed in from the whole run
i = Dom()
i.feed(open(interact_path, encoding="utf-8", errors="replace").read())
clicked = i.body.get("data-clicked", "").split()
span = next((s for s in spans if clicked and int(clicked[1]) == s["tid"] and
             abs(float(clicked[0]) * 1e3 - s["start_ns"]) < 2000), None)
if not span:
    problems.append("the interaction clicked no span of results.json (%r)" % clicked)
else:
    c = span.get("culprit") or {}
    shown = i.text.get("tl-detail", "")
    for part in (span["task"], c.get("function", ""), "%s:%s" % (c.get("file", ""), c.get("line", "")),
                 "innermost first", span["stack"][0]["function"] if span.get("stack") else ""):
        if part not in shown:
            problems.append("after a click, the detail does not show %r: %r" % (part, shown[:200]))
before, after = d.text.get("tl-range", ""), i.body.get("data-range", "")
if not after or after == before:
    problems.append("the wheel did not zoom the timeline (%r, then %r)" % (before, after))

for p in problems:
    print("report.html test FAILED: " + p, file=sys.stderr)
if problems:
    sys.exit(1)
print("report.html: verdict %r, %d checks (%d failed), %d blocking spans labelled and drawn, %d pixels checked, "
      "click and zoom work" % (verdict, len(results["assertions"]), len(failed), len(spans), checked))
