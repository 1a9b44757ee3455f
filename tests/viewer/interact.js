/* Appended to a copy of report.html by run_report_html.sh: clicks the first
 * drawn blocking span and zooms in on it with the wheel, as a person would,
 * and leaves the visible range on <body> for the check. */
(function () {
  var b = document.querySelector("#tl-boxes i"), cv = document.getElementById("tl-canvas");
  if (!b) return;
  var x = +b.dataset.x - scrollX + 2, y = +b.dataset.y - scrollY + 3;
  cv.dispatchEvent(new MouseEvent("click", { clientX: x, clientY: y, bubbles: true }));
  for (var i = 0; i < 6; i++)
    cv.dispatchEvent(new WheelEvent("wheel", { clientX: x, clientY: y, deltaY: -100, bubbles: true, cancelable: true }));
  document.body.setAttribute("data-clicked", b.dataset.ts + " " + b.dataset.tid);
  document.body.setAttribute("data-range", document.getElementById("tl-range").textContent);
})();
