// The correlation view: the site's compute and thermal series around the incident, with
// its alarms marked, from the same history endpoint as the site page.
(function () {
  "use strict";
  var el = document.getElementById("correlation");
  if (!el || !window.Plotly) return;
  var start = parseInt(el.dataset.start, 10);
  var end = el.dataset.end ? parseInt(el.dataset.end, 10) : Date.now();
  var marks = JSON.parse(document.getElementById("alarm-marks").textContent);
  fetch(el.dataset.historyUrl + "?start=" + start + "&end=" + end, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (d) {
      if (d.error) { el.textContent = "✕ " + d.error; return; }
      function trace(key, name, color, axis, dash) {
        var s = d.series[key] || { t: [], v: [] };
        return { name: name, x: s.t.map(function (t) { return new Date(t); }), y: s.v, mode: "lines", yaxis: axis,
                 line: { color: color, dash: dash || "solid", width: 2 } };
      }
      var traces = [trace("it_kw", "IT power (kW)", "#E69F00", "y"), trace("heat_kw", "Heat delivered (kW)", "#56B4E9", "y", "dash"),
                    trace("supply_c", "Supply (°C)", "#D55E00", "y2"), trace("return_c", "Return (°C)", "#009E73", "y2", "dot")];
      var shapes = marks.map(function (m) { return { type: "line", x0: new Date(m.t), x1: new Date(m.t), yref: "paper", y0: 0, y1: 1, line: { color: "#CC79A7", width: 2, dash: "dot" } }; });
      var notes = marks.map(function (m) { return { x: new Date(m.t), yref: "paper", y: 1.02, text: m.title, showarrow: false, font: { color: "#CC79A7" } }; });
      Plotly.newPlot(el, traces, {
        height: 360, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", font: { color: "#e8eef4" },
        xaxis: { type: "date" }, yaxis: { title: "kW" }, yaxis2: { title: "°C", overlaying: "y", side: "right" },
        shapes: shapes, annotations: notes, legend: { orientation: "h", y: -0.2 }, margin: { t: 40 }
      }, { displaylogo: false, responsive: true });
    });
})();
