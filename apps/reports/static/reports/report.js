// The monthly report's charts, drawn from the data embedded in the page (the same script
// draws them in the PDF's print page). A day or hour without data stays empty: a gap is
// shown as a gap, never as zero.
(function () {
  "use strict";
  var el = document.getElementById("report-data");
  if (!el || !window.Plotly) { window.reportReady = true; return; }
  var data = JSON.parse(el.textContent);
  var print = document.body.classList.contains("print");
  var ink = print ? "#111" : "#e8eef4", grid = print ? "#ccc" : "#2b3945";
  // Okabe-Ito colours, told apart by pattern and dash too.
  var C = { blue: "#0072B2", sky: "#56B4E9", orange: "#E69F00", green: "#009E73", vermillion: "#D55E00", purple: "#CC79A7" };
  // a phone: titles wrapped onto lines that fit, no toolbar over them, the legend below
  var narrow = !print && window.innerWidth < 600;
  var CONFIG = { displaylogo: false, responsive: !print, staticPlot: print, displayModeBar: !narrow };

  function wrap(text, width) {
    var lines = [], line = "";
    text.split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > width) { lines.push(line); line = word; }
      else { line = line ? line + " " + word : word; }
    });
    if (line) lines.push(line);
    return lines.join("<br>");
  }

  function layout(title, extra) {
    return Object.assign({
      title: { text: narrow ? wrap(title, 34) : title, font: { size: narrow ? 13 : 16 } },
      height: print ? 270 : (narrow ? 380 : 340),
      width: print ? 720 : undefined,
      margin: narrow ? { l: 45, r: 45, t: 70, b: 90 } : { l: 60, r: 60, t: 40, b: 50 },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: ink, size: narrow ? 11 : 13 }, legend: { orientation: "h", y: narrow ? -0.35 : -0.2 },
      xaxis: { gridcolor: grid }, yaxis: { gridcolor: grid }
    }, extra || {});
  }

  var plots = [];
  function plot(id, traces, lay) {
    if (document.getElementById(id)) plots.push(Plotly.newPlot(id, traces, lay, CONFIG));
  }

  plot("chart-daily", [
    { type: "bar", name: "Heat delivered (kWh)", x: data.days, y: data.heat, marker: { color: C.vermillion } },
    { type: "bar", name: "IT energy (kWh)", x: data.days, y: data.it, marker: { color: C.sky, pattern: { shape: "/" } } },
    { type: "scatter", mode: "lines", name: "IT data coverage (%)", x: data.days, yaxis: "y2",
      y: data.coverage.map(function (c) { return c === null ? null : 100 * c; }),
      line: { color: C.green, dash: "dot", width: 2 } }
  ], layout("Daily heat delivered against IT energy", {
    barmode: "group",
    yaxis: { title: { text: "kWh" }, gridcolor: grid, rangemode: "tozero" },
    yaxis2: { title: { text: "coverage %" }, overlaying: "y", side: "right", range: [0, 105], tickvals: [0, 25, 50, 75, 100], showgrid: false }
  }));

  plot("chart-erf", [
    { type: "scatter", mode: "lines+markers", name: "ERF", x: data.days, y: data.erf, connectgaps: false,
      line: { color: C.orange, width: 3 }, marker: { size: 6 } }
  ], layout("Energy reuse factor by day", { yaxis: { title: { text: "reused ÷ total" }, gridcolor: grid, rangemode: "tozero" } }));

  var hm = data.heatmap;
  plot("chart-sla", [
    { type: "heatmap", x: hm.hours, y: hm.days,
      z: hm.z.map(function (row) { return row.map(function (v) { return v === null ? null : 100 * v; }); }),
      zmin: 0, zmax: 100, colorscale: [[0, C.vermillion], [0.9, C.orange], [1, C.blue]],
      colorbar: { title: { text: "% in band" }, thickness: narrow ? 10 : 30 }, hoverongaps: false,
      hovertemplate: "%{y} %{x}:00 — %{z:.1f} % in band<extra></extra>" }
  ], layout("Supply temperature in band while heat was called for (day × hour)", {
    height: print ? 440 : Math.max(340, 16 * hm.days.length + 120),
    margin: narrow ? { l: 80, r: 10, t: 70, b: 50 } : { l: 95, r: 30, t: 40, b: 50 },
    xaxis: { title: { text: "hour of day (local)" }, dtick: narrow ? 4 : 2, gridcolor: grid },
    yaxis: { autorange: "reversed", type: "category", gridcolor: grid }
  }));

  var cmp = data.compare;
  var colours = [C.vermillion, C.sky, C.purple], patterns = ["", "/", "."];
  plot("chart-compare", cmp.series.map(function (s, i) {
    return { type: "bar", name: s.name, x: cmp.names, y: s.values, marker: { color: colours[i], pattern: { shape: patterns[i] } } };
  }), layout("This month against the previous month and the same month last year (kWh)", { barmode: "group" }));

  Promise.all(plots).then(function () { window.reportReady = true; }, function () { window.reportReady = true; });
})();
