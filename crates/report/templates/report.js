// Date range selector (1m, 6m, 1y, all): moves each month-keyed element of a chart to its place
// in the chosen range, hides what falls before it, and rescales the y axis to the values shown
// (the same nice tops and tick labels as the page was drawn with).
function niceCeiling(x) {
  if (!(x > 0)) return 1;
  var mag = Math.pow(10, Math.floor(Math.log10(x)));
  var steps = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];
  for (var i = 0; i < steps.length; i++) if (steps[i] * mag >= x * (1 - 1e-12)) return steps[i] * mag;
  return 10 * mag;
}
function axisNumber(y, top) {
  var d = top >= 20 ? 0 : top >= 2 ? 1 : top >= 0.2 ? 2 : 3;
  var parts = y.toFixed(d).split(".");
  parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return parts.join(".");
}
document.querySelectorAll("figure.chart").forEach(function (fig) {
  var svg = fig.querySelector("svg");
  var left = +svg.dataset.left, width = +svg.dataset.width, last = +svg.dataset.last;
  var top = +svg.dataset.top, bottom = +svg.dataset.bottom;
  var ticks = svg.querySelectorAll("text.tick[data-i]");
  function show(k) {
    var lo = k > 0 ? Math.max(0, last - k) : 0, span = Math.max(last - lo, 1);
    var x = function (m) { return (left + (m - lo) / span * width).toFixed(1); };
    var max = -Infinity;
    svg.querySelectorAll("[data-v]").forEach(function (el) {
      if (+el.dataset.m >= lo) {
        max = Math.max(max, +el.dataset.v, el.dataset.v2 === undefined ? -Infinity : +el.dataset.v2);
      }
    });
    var yTop = niceCeiling(max * 1.05);
    var y = function (v) { return (bottom - v / yTop * (bottom - top)).toFixed(1); };
    if (max > -Infinity) {
      ticks.forEach(function (t) {
        t.textContent = axisNumber(yTop * +t.dataset.i / (ticks.length - 1), yTop);
      });
    }
    svg.querySelectorAll("[data-m]").forEach(function (el) {
      var m = +el.dataset.m;
      el.setAttribute("display", m < lo || (el.dataset.major === "0" && span > 12) ? "none" : "inline");
      if (el.tagName === "circle") {
        el.setAttribute("cx", x(m));
        if (max > -Infinity) el.setAttribute("cy", y(+el.dataset.v));
      }
      else if (el.tagName === "text") el.setAttribute("x", x(m));
      else if (el.tagName === "rect") {
        el.setAttribute("x", (x(m) - width / span / 2).toFixed(1));
        el.setAttribute("width", (width / span).toFixed(1));
      }
      else {
        el.setAttribute("x1", x(m)); el.setAttribute("x2", x(+el.dataset.m2));
        if (el.dataset.v !== undefined && max > -Infinity) {
          el.setAttribute("y1", y(+el.dataset.v)); el.setAttribute("y2", y(+el.dataset.v2));
        }
      }
    });
    fig.querySelectorAll("button[data-k]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(+b.dataset.k === k));
    });
  }
  fig.querySelectorAll("button[data-k]").forEach(function (b) {
    b.addEventListener("click", function () { show(+b.dataset.k); });
  });
});
