// Date range selector (1m, 6m, 1y, all): moves each month-keyed element of a chart to its place
// in the chosen range and hides what falls before it. The y axis keeps the full range.
document.querySelectorAll("figure.chart").forEach(function (fig) {
  var svg = fig.querySelector("svg");
  var left = +svg.dataset.left, width = +svg.dataset.width, last = +svg.dataset.last;
  function show(k) {
    var lo = k > 0 ? Math.max(0, last - k) : 0, span = Math.max(last - lo, 1);
    var x = function (m) { return (left + (m - lo) / span * width).toFixed(1); };
    svg.querySelectorAll("[data-m]").forEach(function (el) {
      var m = +el.dataset.m;
      el.setAttribute("display", m < lo || (el.dataset.major === "0" && span > 12) ? "none" : "inline");
      if (el.tagName === "circle") el.setAttribute("cx", x(m));
      else if (el.tagName === "text") el.setAttribute("x", x(m));
      else if (el.tagName === "rect") {
        el.setAttribute("x", (x(m) - width / span / 2).toFixed(1));
        el.setAttribute("width", (width / span).toFixed(1));
      }
      else { el.setAttribute("x1", x(m)); el.setAttribute("x2", x(+el.dataset.m2)); }
    });
    fig.querySelectorAll("button[data-k]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(+b.dataset.k === k));
    });
  }
  fig.querySelectorAll("button[data-k]").forEach(function (b) {
    b.addEventListener("click", function () { show(+b.dataset.k); });
  });
});
