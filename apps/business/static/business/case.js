// The business case's chart: cumulative cash flow of each scenario, of the measured months
// and of the projection at the measured pace, from the data embedded in the page.
(function () {
  "use strict";
  var el = document.getElementById("case-data");
  if (!el || !window.Plotly) { window.caseReady = true; return; }
  var data = JSON.parse(el.textContent);
  // Okabe-Ito colours, told apart by dash too
  var STYLE = {
    conservative: { color: "#D55E00", dash: "dot" },
    expected: { color: "#56B4E9", dash: "solid" },
    aggressive: { color: "#009E73", dash: "dashdot" }
  };
  var traces = data.scenarios.map(function (s) {
    var st = STYLE[s.kind] || { color: "#CC79A7", dash: "solid" };
    return { type: "scatter", mode: "lines", name: s.name + " plan", x: data.x, y: s.y, line: { color: st.color, dash: st.dash, width: 2 } };
  });
  if (data.measured.length) {
    traces.push({ type: "scatter", mode: "lines+markers", name: "Measured", x: data.x, y: data.measured, connectgaps: false,
      line: { color: "#E69F00", width: 4 }, marker: { size: 7 } });
    traces.push({ type: "scatter", mode: "lines", name: "Projected from actuals", x: data.x, y: data.projected, connectgaps: false,
      line: { color: "#E69F00", width: 2, dash: "dash" } });
  }
  var ink = "#e8eef4", grid = "#2b3945";
  var shapes = [], annotations = [];
  data.paybacks.forEach(function (p, i) {
    if (!p.date) return;
    var colour = p.kind === "actual" ? "#E69F00" : (STYLE[p.kind] || {}).color;
    shapes.push({ type: "line", xref: "x", yref: "paper", x0: p.date, x1: p.date, y0: 0, y1: 1, line: { color: colour, width: 1, dash: "dot" } });
    annotations.push({ x: p.date, y: 1 - 0.07 * i, xref: "x", yref: "paper", text: p.label + " payback", showarrow: false,
      font: { color: colour, size: 11 }, xanchor: "left", bgcolor: "rgba(0,0,0,0.4)" });
  });
  Plotly.newPlot("chart-cash", traces, {
    title: { text: "Cumulative cash flow (" + data.currency + ")", font: { size: 16 } }, height: 420,
    margin: { l: 80, r: 30, t: 40, b: 50 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: ink, size: 13 }, legend: { orientation: "h", y: -0.15 },
    xaxis: { type: "date", gridcolor: grid }, yaxis: { gridcolor: grid, zeroline: true, zerolinecolor: ink, zerolinewidth: 2 },
    shapes: shapes, annotations: annotations
  }, { displaylogo: false, responsive: true }).then(function () { window.caseReady = true; });
})();
