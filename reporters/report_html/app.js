/* report.html: draws a tokio-guard run from the JSON in #tg-data (results.json
 * and a capped trace.json). Plain DOM and canvas: no library, no network. */
"use strict";
(function () {
  var DATA = JSON.parse(document.getElementById("tg-data").textContent);
  var R = DATA.results || {}, T = DATA.trace, EMB = DATA.embedded || {};
  var css = getComputedStyle(document.documentElement);
  var C = {};
  ["poll", "block", "allowed", "offcpu", "load", "ink", "muted", "line", "fail", "pass"].forEach(function (k) {
    C[k] = css.getPropertyValue("--" + k).trim();
  });
  var $ = function (id) { return document.getElementById(id); };

  /* ------------------------------------------------------------ helpers */
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "cls") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function fmtNs(ns) {
    if (ns == null || isNaN(ns)) return "–";
    var a = Math.abs(ns);
    if (a < 1e3) return Math.round(ns) + "ns";
    if (a < 1e6) return (ns / 1e3).toFixed(a < 1e4 ? 1 : 0) + "µs";
    if (a < 1e9) return (ns / 1e6).toFixed(a < 1e7 ? 2 : 1) + "ms";
    return (ns / 1e9).toFixed(2) + "s";
  }
  function fmtUs(us) { return fmtNs(us * 1e3); }
  function pct(x) { return (x * 100).toFixed(x < 0.1 ? 1 : 0) + "%"; }
  function loc(f) { return f && f.file ? f.file + (f.line ? ":" + f.line : "") : ""; }
  function table(heads, rows, numeric) {
    var t = el("table"), tr = el("tr");
    heads.forEach(function (h, i) { tr.appendChild(el("th", { text: h, cls: numeric && numeric[i] ? "num" : "" })); });
    t.appendChild(el("thead", {}, [tr]));
    var tb = el("tbody");
    rows.forEach(function (r) { tb.appendChild(r); });
    t.appendChild(tb);
    return t;
  }
  function cell(v, cls) { return el("td", { cls: cls || "" }, [v instanceof Node ? v : String(v == null ? "" : v)]); }
  function empty(text) { return el("p", { cls: "empty", text: text }); }
  var tip = $("tip");
  function showTip(ev, html) {
    tip.hidden = false;
    tip.textContent = "";
    html.forEach(function (line, i) { tip.appendChild(el(i ? "div" : "b", { text: line })); });
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + 420 > innerWidth) x = Math.max(4, ev.clientX - 430);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  function hideTip() { tip.hidden = true; }
  function fitCanvas(cv, h) {
    var dpr = window.devicePixelRatio || 1, w = cv.parentNode.clientWidth;
    cv.style.width = w + "px"; cv.style.height = h + "px";
    cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
    var g = cv.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { g: g, w: w, h: h };
  }
  function clipText(g, s, w) {
    if (g.measureText(s).width <= w) return s;
    var lo = 0, hi = s.length;
    while (lo < hi) { var m = (lo + hi + 1) >> 1; if (g.measureText(s.slice(0, m) + "…").width <= w) lo = m; else hi = m - 1; }
    return lo > 2 ? s.slice(0, lo) + "…" : "";
  }
  function culpritFn(s) { /* "fn (file:line)" from the trace's args */
    if (!s) return "";
    var i = s.lastIndexOf(" (");
    return i > 0 && s[s.length - 1] === ")" ? s.slice(0, i) : s;
  }

  /* ------------------------------------------------------------ verdict */
  var checks = R.assertions || [];
  var failed = checks.filter(function (c) { return c.status === "failed"; });
  (function verdict() {
    var v = $("verdict"), code = R.exit_code;
    if (code === 0) { v.className = "verdict passed"; v.textContent = "PASSED — " + checks.length + " checks"; }
    else if (code === 1) { v.className = "verdict failed"; v.textContent = "FAILED — " + failed.length + " of " + checks.length + " checks failed"; }
    else { v.className = "verdict error"; v.textContent = "ERROR (exit " + code + ")" + (R.error ? ": " + R.error : ""); }
    document.title = (code === 0 ? "✔ " : "✘ ") + (R.name || "tokio-guard") + " — tokio-guard report";
    var p = R.probe || {}, tg = R.target || {};
    var facts = [["run", R.name], ["spec", R.spec], ["target", (tg.command || []).join(" ")],
      ["duration", p.duration_s != null ? p.duration_s.toFixed(2) + "s" : null], ["polls", p.polls],
      ["tasks", (R.tasks || []).length], ["blocking spans", (R.blocking_spans || []).length],
      ["blocking threshold", p.blocking_threshold_ns ? fmtNs(p.blocking_threshold_ns) : null],
      ["tokio", p.tokio_version], ["lost events", p.lost_events], ["tokio-guard", R.tokio_guard]];
    facts.forEach(function (f) {
      if (f[1] == null || f[1] === "") return;
      $("facts").appendChild(el("span", {}, [f[0] + " ", el("b", { text: String(f[1]) })]));
    });
    if (R.error && code !== 0 && code !== 1) $("facts").appendChild(el("span", { cls: "culprit", text: R.error }));
  })();

  /* ------------------------------------------------------------- checks */
  (function checksTable() {
    var body = document.querySelector("#checks .body");
    if (!checks.length) { body.appendChild(empty("No checks ran.")); return; }
    var order = { failed: 0, warned: 1, skipped: 2, passed: 3 };
    var rows = checks.slice().sort(function (a, b) { return (order[a.status] || 0) - (order[b.status] || 0); }).map(function (c) {
      var tr = el("tr", { cls: c.status, "data-check": c.name, "data-status": c.status }, [
        cell(el("span", { cls: "pill " + c.status, text: c.status })), cell(c.name, "mono"),
        cell(c.observed, "num"), cell(c.limit, "num"), cell(c.message)]);
      return tr;
    });
    body.appendChild(table(["status", "check", "observed", "limit", "message"], rows, [0, 0, 1, 1, 0]));
  })();

  /* ----------------------------------------------------------- timeline */
  var TL = { rows: [], t1: 1, v0: 0, v1: 1, boxes: [], hit: [] };
  var LABEL_W = 190, ROW_H = 18, AXIS_H = 22, MAX_DEPTH = 4;
  (function buildTimeline() {
    if (!T || !T.traceEvents) { $("tl-note").textContent = "No trace was written: nothing to draw."; return; }
    var names = {}, sort = {}, byTid = {}, meta = T.metadata || {};
    var loadTid = meta.load_steps_tid || 1073741824;
    T.traceEvents.forEach(function (e) {
      if (e.ph === "M" && e.name === "thread_name") names[e.tid] = e.args && e.args.name;
      else if (e.ph === "M" && e.name === "thread_sort_index") sort[e.tid] = e.args && e.args.sort_index;
      else if (e.ph === "X" && e.dur != null) (byTid[e.tid] = byTid[e.tid] || []).push(e);
    });
    var tids = Object.keys(byTid).map(Number);
    tids.sort(function (a, b) { return ((sort[a] != null ? sort[a] : 1e9) - (sort[b] != null ? sort[b] : 1e9)) || a - b; });
    var end = (R.probe && R.probe.duration_s ? R.probe.duration_s * 1e6 : 0);
    tids.forEach(function (tid) {
      var xs = byTid[tid].sort(function (a, b) { return a.ts - b.ts || b.dur - a.dur; });
      var stack = [], depth = 0;
      xs.forEach(function (e) {
        while (stack.length && stack[stack.length - 1] <= e.ts) stack.pop();
        e._d = Math.min(stack.length, MAX_DEPTH - 1);
        depth = Math.max(depth, e._d + 1);
        stack.push(e.ts + e.dur);
        end = Math.max(end, e.ts + e.dur);
      });
      TL.rows.push({ tid: tid, name: names[tid] || ("thread " + tid), load: tid >= loadTid, xs: xs, depth: depth });
    });
    TL.t1 = end || 1; TL.v1 = TL.t1;
    var legend = [["poll", C.poll, "poll ≥ " + fmtUs(meta.effective_min_poll_us || meta.trace_min_poll_us || 100)],
      ["blocking", C.block, "blocking span"], ["allowed", C.allowed, "allowed blocking span"],
      ["off_cpu", C.offcpu, "off CPU inside a span"], ["load", C.load, "load step"]];
    legend.forEach(function (l) { $("tl-legend").appendChild(el("span", {}, [el("i", { style: "background:" + l[1] }), l[2]])); });
    var note = "Embedded " + (EMB.slices != null ? EMB.slices : "?") + " of the trace's " + (EMB.trace_slices != null ? EMB.trace_slices : "?") +
      " slices (at most " + (EMB.max_slices || "?") + ": every blocking span and load step, then the longest polls).";
    if (meta.dropped_slices) note += " trace.json itself left out " + meta.dropped_slices + " shorter polls (floor " + fmtUs(meta.effective_min_poll_us) + ").";
    $("tl-note").textContent = note + " Open trace.json in https://ui.perfetto.dev for every slice.";
  })();

  function sliceColor(e) {
    if (e.cat === "blocking") return e.args && e.args.allowed ? C.allowed : C.block;
    if (e.cat === "off_cpu") return C.offcpu;
    if (e.cat === "load") return C.load;
    return C.poll;
  }
  function sliceLabel(e) {
    if (e.cat === "blocking") { var c = culpritFn(e.args && e.args.culprit); return c ? e.name + " — " + c : e.name; }
    return e.name;
  }
  function rowHeight(r) { return Math.max(1, r.depth) * ROW_H + 6; }

  function drawTimeline() {
    var cv = $("tl-canvas");
    if (!TL.rows.length) { cv.parentNode.hidden = true; return; }
    var h = AXIS_H + TL.rows.reduce(function (s, r) { return s + rowHeight(r); }, 0) + 4;
    var f = fitCanvas(cv, h), g = f.g, W = f.w - LABEL_W, v0 = TL.v0, span = TL.v1 - TL.v0;
    var X = function (t) { return LABEL_W + (t - v0) / span * W; };
    g.clearRect(0, 0, f.w, h);
    g.font = "11px system-ui, sans-serif"; g.textBaseline = "middle";
    /* axis */
    var step = Math.pow(10, Math.floor(Math.log10(span / 6)));
    if (span / step > 12) step *= 5; else if (span / step > 6) step *= 2;
    g.fillStyle = C.muted; g.strokeStyle = C.line;
    for (var t = Math.ceil(v0 / step) * step; t <= TL.v1; t += step) {
      var x = Math.round(X(t)) + 0.5;
      g.beginPath(); g.moveTo(x, AXIS_H - 6); g.lineTo(x, h); g.stroke();
      g.fillText(fmtUs(t), x + 3, 9);
    }
    TL.hit = []; TL.boxes = [];
    var y = AXIS_H, rect = cv.getBoundingClientRect(), ox = rect.left + scrollX, oy = rect.top + scrollY;
    TL.rows.forEach(function (r, ri) {
      var rh = rowHeight(r);
      g.fillStyle = ri % 2 ? "#f3f4f6" : "#fbfbfc"; g.fillRect(0, y, f.w, rh);
      g.fillStyle = C.ink; g.fillText(clipText(g, r.name, LABEL_W - 12), 8, y + 11);
      if (!r.load && rh >= 2 * ROW_H) { g.fillStyle = C.muted; g.fillText("tid " + r.tid, 8, y + 11 + ROW_H); }
      g.save(); g.beginPath(); g.rect(LABEL_W, y, W, rh); g.clip();
      var lastX = [-1, -1, -1, -1];
      /* blocking spans last: a highlight is never painted over by a poll */
      r.xs.filter(function (e) { return e.cat !== "blocking"; }).concat(r.xs.filter(function (e) { return e.cat === "blocking"; })).forEach(function (e) {
        if (e.ts + e.dur < v0 || e.ts > TL.v1) return;
        var x0 = X(e.ts), w = e.dur / span * W, sy = y + 3 + e._d * ROW_H, block = e.cat === "blocking";
        if (block) { x0 = Math.round(x0); w = Math.max(4, Math.round(w)); }
        else if (w < 1) { if (x0 - lastX[e._d] < 0.5) return; w = 1; } /* sub-pixel polls: one per pixel */
        lastX[e._d] = x0;
        g.fillStyle = sliceColor(e); g.fillRect(x0, sy, w, ROW_H - 2);
        TL.hit.push({ x: x0, y: sy, w: w, h: ROW_H - 2, e: e });
        if (w > 36) {
          var full = sliceLabel(e), s = clipText(g, full, w - 8);
          if (s && (s === full || s.length > 12)) { g.fillStyle = "#fff"; g.fillText(s, x0 + 4, sy + (ROW_H - 2) / 2 + 0.5); }
        }
        if (block) {
          var vx0 = Math.max(x0, LABEL_W), vx1 = Math.min(x0 + w, f.w);
          if (vx1 - vx0 >= 3) TL.boxes.push({ e: e, x: ox + vx0, y: oy + sy, w: vx1 - vx0, h: ROW_H - 2, color: sliceColor(e) });
        }
      });
      g.restore();
      y += rh;
    });
    $("tl-range").textContent = "showing " + fmtUs(TL.v0) + " – " + fmtUs(TL.v1) + " of " + fmtUs(TL.t1);
    exposeBoxes();
  }
  /* Each drawn blocking span's box, for tests and tools reading the page. */
  function exposeBoxes() {
    var box = $("tl-boxes");
    box.textContent = "";
    TL.boxes.forEach(function (b) {
      box.appendChild(el("i", { "data-task": b.e.name, "data-culprit": culpritFn(b.e.args && b.e.args.culprit),
        "data-label": sliceLabel(b.e), "data-ts": b.e.ts, "data-tid": b.e.tid, "data-color": b.color,
        "data-x": Math.round(b.x), "data-y": Math.round(b.y), "data-w": Math.floor(b.w), "data-h": b.h }));
    });
  }
  function hitAt(ev) {
    var r = $("tl-canvas").getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
    for (var i = TL.hit.length - 1; i >= 0; i--) {
      var h = TL.hit[i];
      if (x >= h.x - 1 && x <= h.x + h.w + 1 && y >= h.y && y <= h.y + h.h) return h.e;
    }
    return null;
  }
  function zoom(factor, atX) {
    var W = $("tl-canvas").clientWidth - LABEL_W, span = TL.v1 - TL.v0;
    var at = TL.v0 + Math.max(0, Math.min(1, (atX - LABEL_W) / W)) * span;
    var ns = Math.max(10, Math.min(TL.t1 * 1.05, span * factor));
    TL.v0 = Math.max(0, at - (at - TL.v0) * ns / span); TL.v1 = Math.min(TL.t1 * 1.05, TL.v0 + ns);
    drawTimeline();
  }
  function focusSlice(ts, dur) {
    var pad = Math.max(dur * 1.5, 200);
    TL.v0 = Math.max(0, ts - pad); TL.v1 = Math.min(TL.t1 * 1.05, ts + dur + pad);
    drawTimeline();
    $("timeline").scrollIntoView({ behavior: "smooth" });
  }
  function detail(e) {
    var d = $("tl-detail"), a = e.args || {};
    d.className = "detail"; d.textContent = "";
    d.appendChild(el("b", { text: sliceLabel(e) }));
    var bits = ["wall " + fmtUs(e.dur)];
    if (a.own_us != null) bits.push("own " + fmtUs(a.own_us));
    if (a.on_cpu_us != null) bits.push("on CPU " + fmtUs(a.on_cpu_us));
    if (a.off_cpu_us != null) bits.push("off CPU " + fmtUs(a.off_cpu_us));
    if (a.runqueue_us) bits.push("waiting for a CPU " + fmtUs(a.runqueue_us));
    if (a.task_id != null) bits.push("task id " + a.task_id);
    if (a.kind) bits.push("kind " + a.kind);
    if (a.allowed) bits.push("allowed");
    bits.push("at " + fmtUs(e.ts) + ", tid " + e.tid);
    d.appendChild(el("div", { text: bits.join(" · ") }));
    if (a.culprit) d.appendChild(el("div", {}, ["culprit: ", el("code", { cls: "culprit", text: a.culprit })]));
    if (a.stack && a.stack.length) {
      var ol = el("ol");
      a.stack.forEach(function (s) { ol.appendChild(el("li", { cls: s === a.culprit ? "own" : "", text: s })); });
      d.appendChild(el("div", { cls: "hint", text: "stack, innermost first:" }));
      d.appendChild(ol);
    }
  }
  (function wireTimeline() {
    var cv = $("tl-canvas"), drag = null;
    cv.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      zoom(ev.deltaY > 0 ? 1.25 : 0.8, ev.clientX - cv.getBoundingClientRect().left);
    }, { passive: false });
    cv.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, v0: TL.v0, v1: TL.v1, moved: false }; cv.classList.add("dragging"); });
    addEventListener("mouseup", function () { drag && setTimeout(function () { drag = null; }, 0); cv.classList.remove("dragging"); });
    cv.addEventListener("mousemove", function (ev) {
      if (drag && ev.buttons) {
        var dx = ev.clientX - drag.x, W = cv.clientWidth - LABEL_W, dt = -dx / W * (drag.v1 - drag.v0);
        if (Math.abs(dx) > 2) drag.moved = true;
        dt = Math.max(-drag.v0, Math.min(TL.t1 * 1.05 - drag.v1, dt));
        TL.v0 = drag.v0 + dt; TL.v1 = drag.v1 + dt; drawTimeline(); hideTip(); return;
      }
      var e = hitAt(ev);
      if (!e) { hideTip(); return; }
      var a = e.args || {}, lines = [sliceLabel(e), "wall " + fmtUs(e.dur) + (a.on_cpu_us != null ? " · on CPU " + fmtUs(a.on_cpu_us) + " · off CPU " + fmtUs(a.off_cpu_us || 0) : "")];
      if (a.culprit) lines.push(a.culprit);
      showTip(ev, lines);
    });
    cv.addEventListener("mouseleave", hideTip);
    cv.addEventListener("click", function (ev) { if (drag && drag.moved) return; var e = hitAt(ev); if (e) detail(e); });
    cv.addEventListener("dblclick", function () { TL.v0 = 0; TL.v1 = TL.t1; drawTimeline(); });
    $("tl-in").onclick = function () { zoom(0.5, LABEL_W + (cv.clientWidth - LABEL_W) / 2); };
    $("tl-out").onclick = function () { zoom(2, LABEL_W + (cv.clientWidth - LABEL_W) / 2); };
    $("tl-reset").onclick = function () { TL.v0 = 0; TL.v1 = TL.t1; drawTimeline(); };
  })();

  /* ---------------------------------------------------- blocking spans */
  var spans = R.blocking_spans || [];
  (function spanTable() {
    var body = document.querySelector("#spans .body");
    if (!spans.length) { body.appendChild(empty("No blocking spans: no poll held a worker for the blocking threshold.")); return; }
    var list = spans.slice().sort(function (a, b) { return b.duration_ns - a.duration_ns; }).slice(0, 300);
    var rows = list.map(function (s) {
      var c = s.culprit || {};
      var tr = el("tr", { "data-span-task": s.task, "data-span-culprit": c.function || "" }, [
        cell(s.task, "mono"), cell(el("span", {}, [el("code", { cls: "culprit", text: c.function || "–" }), " ", el("span", { cls: "hint", text: loc(c) })])),
        cell(fmtNs(s.duration_ns), "num"), cell(fmtNs(s.on_cpu_ns), "num"), cell(fmtNs(s.off_cpu_ns), "num"),
        cell(s.blocking_kind || s.kind || ""), cell(s.allowed ? "allowed" + (s.allow_reason ? ": " + s.allow_reason : "") : ""),
        cell(fmtNs(s.start_ns), "num")]);
      tr.style.cursor = "pointer";
      tr.title = "show it on the timeline";
      tr.onclick = function () { focusSlice(s.start_ns / 1e3, s.duration_ns / 1e3); };
      return tr;
    });
    body.appendChild(table(["task", "culprit", "wall", "on CPU", "off CPU", "kind", "allowed", "at"], rows, [0, 0, 1, 1, 1, 0, 0, 1]));
    if (spans.length > list.length) body.appendChild(el("p", { cls: "hint", text: "The " + list.length + " longest of " + spans.length + " spans." }));
  })();

  /* -------------------------------------------------------- flame graph */
  var FG = { root: null, focus: null, hit: [] };
  /* the target's own code: the crates its tasks and culprits are in */
  var own = {}, ownCrates = {}, notOwn = { std: 1, core: 1, alloc: 1, tokio: 1 };
  var crateOf = function (fn) { var m = /^([A-Za-z_][A-Za-z0-9_]*)::/.exec(fn || ""); return m && !notOwn[m[1]] ? m[1] : null; };
  spans.forEach(function (s) {
    if (s.culprit && s.culprit.function) { own[s.culprit.function] = 1; ownCrates[crateOf(s.culprit.function)] = 1; }
    ownCrates[crateOf(s.task)] = 1;
  });
  delete ownCrates["null"];
  (function buildFlame() {
    var root = { name: "all blocking spans", w: 0, n: 0, kids: {}, depth: 0 };
    spans.forEach(function (s) {
      var node = root, st = (s.stack || []).slice().reverse();
      root.w += s.duration_ns; root.n++;
      st.forEach(function (f) {
        var k = f.function + "\u0000" + (f.file || "");
        var c = node.kids[k] || (node.kids[k] = { name: f.function, frame: f, w: 0, n: 0, kids: {}, parent: node });
        c.w += s.duration_ns; c.n++;
        node = c;
      });
    });
    FG.root = FG.focus = root;
  })();
  function frameColor(n) {
    if (!n.frame) return "#8b8d98";
    var h = 0;
    for (var i = 0; i < n.name.length; i++) h = (h * 31 + n.name.charCodeAt(i)) >>> 0;
    if (own[n.name]) return "hsl(" + (356 + h % 10) + ",78%,56%)";
    if (ownCrates[crateOf(n.name)]) return "hsl(" + (18 + h % 22) + ",85%," + (58 + h % 8) + "%)";
    return "hsl(" + (205 + h % 30) + ",22%," + (68 + h % 10) + "%)";
  }
  function drawFlame() { drawFlameOn(FG, "fg-canvas", "fg-detail", "No blocking spans: no stacks to draw."); }
  /* FG: {root, focus, hit}, a tree of {name, frame, w, n, kids, parent} */
  function drawFlameOn(FG, cvId, detailId, none) {
    var cv = $(cvId), H = 18;
    if (!FG.root.w) { cv.parentNode.hidden = true; $(detailId).textContent = none; return; }
    var rows = [], maxDepth = 0;
    (function walk(n, d, x0, scale) { /* the focused frame fills the width; its ancestors stay on top */
      rows.push({ n: n, d: d, x: x0, w: n.w * scale });
      maxDepth = Math.max(maxDepth, d);
      if (d > 60) return;
      var x = x0;
      Object.keys(n.kids).map(function (k) { return n.kids[k]; }).sort(function (a, b) { return b.w - a.w; }).forEach(function (c) {
        walk(c, d + 1, x, scale); x += c.w * scale;
      });
    })(FG.focus, 0, 0, 1 / FG.focus.w);
    var anc = [];
    for (var p = FG.focus.parent; p; p = p.parent) anc.unshift(p);
    var f = fitCanvas(cv, (maxDepth + 1 + anc.length) * H + 4), g = f.g;
    g.clearRect(0, 0, f.w, f.h);
    g.font = "11px system-ui, sans-serif"; g.textBaseline = "middle";
    FG.hit = [];
    var put = function (n, y, x, w) {
      g.fillStyle = frameColor(n); g.fillRect(x, y, Math.max(w - 1, 0.5), H - 1);
      FG.hit.push({ n: n, x: x, y: y, w: w });
      if (w > 30) { var s = clipText(g, n.name, w - 8); if (s) { g.fillStyle = "#1c2024"; g.fillText(s, x + 4, y + H / 2); } }
    };
    anc.forEach(function (n, i) { put(n, i * H, 0, f.w); });
    rows.forEach(function (r) { if (r.w * f.w >= 0.5) put(r.n, (anc.length + r.d) * H, r.x * f.w, r.w * f.w); });
  }
  function flameHit(ev) { return flameHitOn(FG, "fg-canvas", ev); }
  function flameHitOn(FG, cvId, ev) {
    var r = $(cvId).getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
    for (var i = 0; i < FG.hit.length; i++) { var h = FG.hit[i]; if (x >= h.x && x < h.x + h.w && y >= h.y && y < h.y + 17) return h.n; }
    return null;
  }
  (function wireFlame() {
    var cv = $("fg-canvas");
    cv.addEventListener("mousemove", function (ev) {
      var n = flameHit(ev);
      if (!n) { hideTip(); return; }
      showTip(ev, [n.name, fmtNs(n.w) + " (" + pct(n.w / FG.root.w) + " of blocking time) in " + n.n + " span" + (n.n === 1 ? "" : "s"), loc(n.frame)]);
    });
    cv.addEventListener("mouseleave", hideTip);
    cv.addEventListener("click", function (ev) {
      var n = flameHit(ev);
      if (!n) return;
      FG.focus = n === FG.focus && n.parent ? n.parent : n;
      $("fg-detail").textContent = FG.focus === FG.root ? "" : "zoomed into " + FG.focus.name + " " + loc(FG.focus.frame);
      drawFlame();
    });
    $("fg-detail").textContent = "Total " + fmtNs(FG.root.w) + " in " + FG.root.n + " spans. Red: the culprit frames; orange: the target's own code; grey-blue: libraries and the standard library.";
  })();

  /* ------------------------------------------------ CPU profile (probe.cpu_profile) */
  var CPU = { root: { name: "all samples", w: 0, n: 0, kids: {}, depth: 0 }, focus: null, hit: [] };
  CPU.focus = CPU.root;
  (function cpuProfile() { /* a flame graph of cpu.folded (embedded), the top functions from results.json */
    var P = R.cpu_profile, sec = $("cpu");
    if (!P) { sec.hidden = true; return; }
    (R.tasks || []).forEach(function (t) { ownCrates[crateOf(t.name)] = 1; }); /* colours the target's own frames */
    delete ownCrates["null"];
    String(DATA.cpu_folded || "").split("\n").forEach(function (line) {
      var sp = line.lastIndexOf(" "), n = +line.slice(sp + 1), node = CPU.root;
      if (sp <= 0 || !(n > 0)) return;
      CPU.root.w += n; CPU.root.n += n;
      line.slice(0, sp).split(";").forEach(function (f) {
        var c = node.kids[f] || (node.kids[f] = { name: f, frame: { function: f }, w: 0, n: 0, kids: {}, parent: node });
        c.w += n; c.n += n; node = c;
      });
    });
    var files = {};
    (P.functions || []).forEach(function (f) { files[f.function] = f; });
    var rows = (P.functions || []).slice(0, 15).map(function (f) {
      return el("tr", {}, [cell(f.function, "mono"), cell(f.self_pct.toFixed(1) + "%", "num"), cell(f.total_pct.toFixed(1) + "%", "num"), cell(loc(f), "mono")]);
    });
    var body = sec.querySelector(".body");
    body.appendChild(el("p", { cls: "hint", text: P.samples + " samples at " + (P.hz || "?") + " Hz of every thread" + (P.lost ? ", " + P.lost + " lost" : "") + "; folded stacks in " + (P.folded || "cpu.folded") + " (inferno, speedscope)." }));
    if (rows.length) body.appendChild(table(["function", "self", "total", "where"], rows, [0, 1, 1, 0]));
    var cv = $("cpu-canvas");
    cv.addEventListener("mousemove", function (ev) {
      var n = flameHitOn(CPU, "cpu-canvas", ev);
      if (!n) { hideTip(); return; }
      showTip(ev, [n.name, n.w + " samples (" + pct(n.w / CPU.root.w) + ")", loc(files[n.name])]);
    });
    cv.addEventListener("mouseleave", hideTip);
    cv.addEventListener("click", function (ev) {
      var n = flameHitOn(CPU, "cpu-canvas", ev);
      if (!n) return;
      CPU.focus = n === CPU.focus && n.parent ? n.parent : n;
      drawCpu();
    });
  })();
  function drawCpu() { if (R.cpu_profile) drawFlameOn(CPU, "cpu-canvas", "cpu-detail", "No stacks embedded (cpu.folded missing or too big): open it in speedscope."); }

  /* -------------------------------------------------------------- tasks */
  var SUB_BITS = (R.hist_layout && R.hist_layout.sub_bits) || 5, SUB = 1 << SUB_BITS;
  function bucketLow(b) { /* common/hist_layout.h: exact below SUB, then SUB buckets per power of two */
    if (b < SUB) return b;
    var e = Math.floor(b / SUB) + SUB_BITS - 1;
    return Math.pow(2, e) + (b % SUB) * Math.pow(2, e - SUB_BITS);
  }
  (function taskTable() {
    var body = document.querySelector("#tasks .body"), tasks = R.tasks || [];
    if (!tasks.length) { body.appendChild(empty("No task was polled.")); return; }
    var thr = (R.probe && R.probe.blocking_threshold_ns) || 1e7;
    /* the blocking pool's threads run for seconds by design: they do not set the scale */
    var hi = Math.max(thr * 2, tasks.reduce(function (m, t) { return t.kind === "blocking_pool" ? m : Math.max(m, t.max_poll_ns || 0); }, 0) * 1.2), lo = 1e3;
    var W = 220, H = 26, X = function (ns) { return Math.max(0, Math.min(W, Math.log(Math.max(ns, lo) / lo) / Math.log(hi / lo) * W)); };
    var NS = "http://www.w3.org/2000/svg";
    function svg(t) {
      var s = document.createElementNS(NS, "svg");
      s.setAttribute("width", W); s.setAttribute("height", H); s.setAttribute("viewBox", "0 0 " + W + " " + H);
      var add = function (tag, a) { var e = document.createElementNS(NS, tag); for (var k in a) e.setAttribute(k, a[k]); s.appendChild(e); return e; };
      add("rect", { x: 0, y: 4, width: W, height: H - 8, fill: "#f0f1f4", rx: 3 });
      if (t.poll_hist && t.poll_hist.length) {
        var maxc = t.poll_hist.reduce(function (m, bc) { return Math.max(m, bc[1]); }, 1);
        t.poll_hist.forEach(function (bc) {
          var x0 = X(bucketLow(bc[0])), x1 = Math.max(x0 + 1.5, X(bucketLow(bc[0] + 1)));
          var h = Math.max(1.5, Math.sqrt(bc[1] / maxc) * (H - 8));
          add("rect", { x: x0, y: H - 4 - h, width: x1 - x0, height: h, fill: bucketLow(bc[0]) >= thr ? C.block : C.poll });
        });
      } else {
        add("rect", { x: X(t.p50_poll_ns), y: 8, width: Math.max(2, X(t.p99_poll_ns) - X(t.p50_poll_ns)), height: H - 16, fill: C.poll, opacity: 0.75 });
        add("rect", { x: X(t.p99_poll_ns), y: 11, width: Math.max(0, X(t.max_poll_ns) - X(t.p99_poll_ns)), height: H - 22, fill: C.poll, opacity: 0.35 });
        add("rect", { x: X(t.max_poll_ns) - 1.5, y: 5, width: 3, height: H - 10, fill: t.max_poll_ns >= thr ? C.block : C.ink });
      }
      add("line", { x1: X(thr), x2: X(thr), y1: 0, y2: H, stroke: C.fail, "stroke-dasharray": "3 2" });
      var title = document.createElementNS(NS, "title");
      title.textContent = "p50 " + fmtNs(t.p50_poll_ns) + ", p99 " + fmtNs(t.p99_poll_ns) + ", max " + fmtNs(t.max_poll_ns) + "; dashed: the blocking threshold " + fmtNs(thr);
      s.appendChild(title);
      return s;
    }
    var hasHist = tasks.some(function (t) { return t.poll_hist; });
    var rows = tasks.map(function (t) {
      return el("tr", { "data-task": t.name, "data-hist": t.poll_hist ? t.poll_hist.length : "" }, [cell(t.name, "mono"), cell(t.kind || ""), cell(t.polls, "num"), cell(fmtNs(t.busy_ns), "num"),
        cell(fmtNs(t.p50_poll_ns), "num"), cell(fmtNs(t.p99_poll_ns), "num"), cell(fmtNs(t.max_poll_ns), "num"),
        cell(t.blocking_spans || 0, "num"), cell(svg(t))]);
    });
    body.appendChild(table(["task", "kind", "polls", "busy", "p50", "p99", "max", "blocking", hasHist ? "poll histogram (log)" : "p50–p99 bar, max tick (log)"],
      rows, [0, 0, 1, 1, 1, 1, 1, 1, 0]));
    body.appendChild(el("p", { cls: "hint", text: "Poll times are own time (minus waiting for a CPU). Scale " + fmtNs(lo) + " – " + fmtNs(hi) +
      ", logarithmic; dashed line: the blocking threshold (" + fmtNs(thr) + ")." + (hasHist ? "" : " This results.json has no per-task histogram: percentiles shown.") }));
  })();

  /* ------------------------------------------------------------ workers */
  function unionUs(xs) { /* time covered by slices, nested ones once */
    var end = -1, total = 0;
    xs.forEach(function (e) {
      var s = Math.max(e.ts, end), f = e.ts + e.dur;
      if (f > s) { total += f - s; end = f; }
    });
    return total;
  }
  (function workerTable() {
    var body = document.querySelector("#workers .body"), rows = [], fromTrace = !(R.workers && R.workers.length);
    function bar(busy, blocked) {
      var idle = Math.max(0, 1 - busy - blocked);
      return el("div", { cls: "stack3", title: "busy " + pct(busy) + ", blocked " + pct(blocked) + ", idle " + pct(idle) }, [
        el("span", { style: "width:" + busy * 100 + "%;background:" + C.poll }),
        el("span", { style: "width:" + blocked * 100 + "%;background:" + C.block }),
        el("span", { style: "width:" + idle * 100 + "%;background:transparent" })]);
    }
    if (!fromTrace) {
      R.workers.forEach(function (w) {
        var busy = (w.busy_pct || 0) / 100, blocked = (w.blocked_pct || 0) / 100;
        rows.push(el("tr", {}, [cell(w.name || ""), cell(w.tid, "num"), cell(pct(busy), "num"), cell(pct(blocked), "num"), cell(pct((w.idle_pct || 0) / 100), "num"), cell(bar(Math.max(0, busy - blocked), blocked))]));
      });
    } else {
      var dur = (R.probe && R.probe.duration_s ? R.probe.duration_s * 1e6 : TL.t1) || 1;
      TL.rows.forEach(function (r) {
        if (r.load) return;
        var all = unionUs(r.xs), blk = unionUs(r.xs.filter(function (e) { return e.cat === "blocking"; }));
        var busy = Math.min(1, all / dur), blocked = Math.min(busy, blk / dur);
        rows.push(el("tr", {}, [cell(r.name), cell(r.tid, "num"), cell(pct(busy), "num"), cell(pct(blocked), "num"), cell(pct(1 - busy), "num"), cell(bar(busy - blocked, blocked))]));
      });
    }
    if (!rows.length) { body.appendChild(empty("No worker data.")); return; }
    body.appendChild(table(["thread", "tid", "busy", "blocked", "idle", ""], rows, [0, 1, 1, 1, 1, 0]));
    body.appendChild(el("p", { cls: "hint", text: fromTrace ? "Computed from the trace's slices over the floor only (polls ≥ " +
      fmtUs((T && T.metadata && (T.metadata.effective_min_poll_us || T.metadata.trace_min_poll_us)) || 100) + "): shorter polls are not counted, so busy is a lower bound." :
      "From results.json's workers[]." }));
  })();

  /* --------------------------------------------------------------- heap */
  function fmtBytes(n) {
    var a = Math.abs(n), u = ["B", "KB", "MB", "GB"], i = 0;
    while (a >= 1024 && i < u.length - 1) { a /= 1024; i++; }
    return (n < 0 ? "-" : "") + (i ? a.toFixed(1) : a) + u[i];
  }
  (function heapTable() { /* probe.heap: a section of its own, only when results.json has one */
    var H = R.heap, load = $("load");
    if (!H || !load) return;
    var sec = el("section", { id: "heap" }, [el("h2", { text: "Heap: allocation sites" }), el("div", { cls: "body" })]);
    load.parentNode.insertBefore(sec, load);
    var body = sec.querySelector(".body"), sites = (H.sites || []).slice(0, 30);
    body.appendChild(el("p", { text: "Grew " + fmtBytes(H.growth_bytes || 0) + " (peak " + fmtBytes(H.peak_live_bytes || 0) + " live), " +
      ((H.stats && H.stats.allocs) || 0) + " allocations in " + (H.window_s || 0).toFixed(1) + "s." }));
    if (!sites.length) { body.appendChild(empty("No allocations seen.")); return; }
    body.appendChild(table(["function", "file", "allocs", "bytes", "live"], sites.map(function (x) {
      return el("tr", { "data-site": x.function }, [cell(x.function + (x.own === false ? " (not own code)" : ""), "mono"), cell(loc(x)),
        cell(x.allocs, "num"), cell(fmtBytes(x.bytes), "num"), cell(fmtBytes(x.live_bytes), "num")]);
    }), [0, 0, 1, 1, 1]));
    body.appendChild(el("p", { cls: "hint", text: "A site is the innermost frame of the program's own code in the allocation's stack; most live bytes first" +
      (H.sites.length > sites.length ? " (30 of " + H.sites.length + ")" : "") + ". Growth: live bytes at the end of the load." +
      (H.frees_seen === false ? " Frees were not seen (no dealloc symbol): live bytes count every allocation." : "") }));
  })();

  /* --------------------------------------------------------------- load */
  (function loadTable() {
    var body = document.querySelector("#load .body"), rows = [];
    (function add(steps, depth) {
      (steps || []).forEach(function (s) {
        var l = s.latency_ns || {};
        rows.push(el("tr", { cls: s.ok === false ? "failed" : "", "data-step": s.name }, [
          cell((depth ? "\u00a0\u00a0\u00a0\u00a0".repeat(depth) + "↳ " : "") + s.name), cell(s.kind || ""), cell(s.ok === false ? (s.error || "failed") : "ok"),
          cell(s.requests != null ? s.requests : "", "num"), cell(s.errors != null ? s.errors : "", "num"),
          cell(l.p50 != null ? fmtNs(l.p50) : "", "num"), cell(l.p99 != null ? fmtNs(l.p99) : "", "num"), cell(l.max != null ? fmtNs(l.max) : "", "num"),
          cell(s.throughput_per_s ? s.throughput_per_s.toFixed(1) + "/s" : "", "num"), cell(s.duration_ns != null ? fmtNs(s.duration_ns) : "", "num")]));
        add(s.children || s.steps, depth + 1);
      });
    })(R.load, 0);
    if (!rows.length) { body.appendChild(empty("No load steps.")); return; }
    body.appendChild(table(["step", "kind", "result", "requests", "errors", "p50", "p99", "max", "throughput", "duration"], rows, [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]));
  })();

  $("foot").textContent = "tokio-guard " + (R.tokio_guard || "") + " · drawn from results.json" + (T ? " and trace.json" : "") +
    (R.source_root ? " · paths relative to " + R.source_root : "") + " · this page makes no network request.";
  drawTimeline();
  drawFlame();
  drawCpu();
  var pending = 0;
  addEventListener("resize", function () { clearTimeout(pending); pending = setTimeout(function () { drawTimeline(); drawFlame(); drawCpu(); }, 100); });
  document.body.setAttribute("data-rendered", "1");
})();
