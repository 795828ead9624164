// The site page's charts: history for the chosen range (downsampled inside InfluxDB),
// extended live by the points that arrive over the websocket, refetched for the gap
// after a reconnect.
(function () {
  "use strict";
  var root = document.getElementById("charts");
  if (!root || !window.Plotly) return;
  var url = root.dataset.historyUrl;
  var range = "1h";
  var lastT = {};
  var wasClosed = false;
  var drawn = false;
  var pending = [];  // live points that arrive before the history is drawn
  // Okabe-Ito colours, with distinct dashes so lines differ without colour too.
  var C = { blue: "#56B4E9", orange: "#E69F00", green: "#009E73", yellow: "#F0E442", vermillion: "#D55E00", purple: "#CC79A7" };
  var CHARTS = [
    { id: "chart-power", title: "IT power against heat delivered (kW)", traces: [["it_kw", "IT power", C.orange, "solid"], ["heat_kw", "Heat delivered", C.blue, "dash"]] },
    // ΔT on its own axis (right, K): on the temperatures' axis its few kelvin are a flat line
    { id: "chart-loop", title: "Primary loop: supply, return (°C) and ΔT (K)", traces: [["supply_c", "Supply", C.vermillion, "solid"], ["return_c", "Return", C.blue, "dash"], ["delta_t", "ΔT", C.green, "dot", "y2"]],
      layout: { yaxis: { title: { text: "°C" } }, yaxis2: { title: { text: "K" }, overlaying: "y", side: "right", rangemode: "tozero", showgrid: false }, margin: { l: 50, r: 50, t: 36, b: 36 } } },
    // a fixed 0-100 % axis: autoscaled, a tank moving between 7.7 and 8.6 % looks dramatic
    { id: "chart-tank", title: "Buffer tank state of charge (%)", traces: [["soc", "State of charge", C.purple, "solid"]], layout: { yaxis: { range: [0, 100], title: { text: "%" } } } },
    { id: "chart-consumer", title: "Consumer demand against delivered heat (kW)", traces: [["demand_kw", "Demand", C.yellow, "dash"], ["delivered_kw", "Delivered", C.green, "solid"]] }
  ];
  var WALL = document.body.classList.contains("wall");  // read from across a room: taller, larger type
  var LAYOUT = {
    margin: { l: 50, r: 10, t: 36, b: 36 }, height: WALL ? 265 : 280, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: "#e8eef4", size: WALL ? 17 : 14 }, legend: { orientation: "h", y: -0.2 },
    xaxis: { type: "date", gridcolor: "#2b3945" }, yaxis: { gridcolor: "#2b3945" }
  };
  var status = root.querySelector(".chart-status");
  var span = 3600 * 1000;  // the chosen range, in ms: the charts show the latest span and slide with it

  function window_() { var now = Date.now(); return [new Date(now - span), new Date(now)]; }

  function draw(data) {
    CHARTS.forEach(function (chart) {
      var traces = chart.traces.map(function (t) {
        var s = data.series[t[0]] || { t: [], v: [] };
        var xs = [], ys = [];
        s.t.forEach(function (x, i) {
          if (i > 0 && x - s.t[i - 1] > data.gap_ms) { xs.push(new Date(x - 1)); ys.push(null); }  // a gap shows as a gap
          xs.push(new Date(x)); ys.push(s.v[i]);
          lastT[t[0]] = Math.max(lastT[t[0]] || 0, x);
        });
        return { name: t[1], x: xs, y: ys, mode: "lines", yaxis: t[4] || "y",
                 line: { color: t[2], dash: t[3], width: 3 }, connectgaps: false };
      });
      var own = chart.layout || {};
      var layout = Object.assign({}, LAYOUT, own, { title: { text: chart.title, font: { size: 16 } },
                                               xaxis: Object.assign({}, LAYOUT.xaxis, { range: window_() }),
                                               yaxis: Object.assign({}, LAYOUT.yaxis, own.yaxis || {}) });
      Plotly.react(chart.id, traces, layout, { displaylogo: false, responsive: true });
    });
  }

  function extend(points) {
    if (!drawn) { pending.push(points); return; }
    CHARTS.forEach(function (chart) {
      var xs = [], ys = [], idx = [];
      chart.traces.forEach(function (t, i) {
        var p = points[t[0]];
        if (p && p[0] > (lastT[t[0]] || 0)) {
          xs.push([new Date(p[0])]); ys.push([p[1]]); idx.push(i); lastT[t[0]] = p[0];
        }
      });
      if (idx.length) {
        Plotly.extendTraces(chart.id, { x: xs, y: ys }, idx, 5000);
        Plotly.relayout(chart.id, { "xaxis.range": window_() });
      }
    });
  }

  function load(since) {
    status.textContent = "loading…";
    return fetch(url + "?range=" + range + (since ? "&since=" + since : ""), { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) { status.textContent = "✕ " + res.body.error; return; }
        if (since) {
          var pts = {};
          Object.keys(res.body.series).forEach(function (k) {
            var s = res.body.series[k];
            s.t.forEach(function (t, i) { if (s.v[i] !== null) { pts[k] = [t, s.v[i]]; extend(pts); pts = {}; } });
          });
        } else {
          lastT = {};
          span = res.body.end - res.body.start;
          draw(res.body);
          drawn = true;
          pending.splice(0).forEach(extend);
        }
        status.textContent = "";
      })
      .catch(function () { status.textContent = "✕ could not load the history; retrying with the next update"; });
  }

  root.querySelectorAll("button[data-range]").forEach(function (b) {
    b.addEventListener("click", function () {
      range = b.dataset.range;
      root.querySelectorAll("button[data-range]").forEach(function (o) { o.setAttribute("aria-pressed", o === b ? "true" : "false"); });
      load();
    });
  });

  document.body.addEventListener("htmx:wsAfterMessage", function () {
    var el = document.getElementById("live-points");
    if (el && el.dataset.points) extend(JSON.parse(el.dataset.points));
  });
  document.body.addEventListener("htmx:wsClose", function () { wasClosed = true; });
  document.body.addEventListener("htmx:wsOpen", function () {
    if (!wasClosed) return;
    wasClosed = false;
    var times = Object.keys(lastT).map(function (k) { return lastT[k]; });
    load(times.length ? Math.min.apply(null, times) : null);  // only what was missed
  });

  function drawCapacity() {
    var el = document.getElementById("capacity-data");
    var target = document.getElementById("chart-capacity");
    if (!el || !target) return;
    var d = JSON.parse(el.textContent);
    var x = d.t.map(function (t) { return new Date(t); });
    var traces = [
      { name: "Expected consumer demand", x: x, y: d.demand, stackgroup: "a", line: { color: C.green } },
      { name: "Dump path", x: x, y: d.dump, stackgroup: "a", line: { color: C.blue } },
      { name: "Tank headroom", x: x, y: d.tank, stackgroup: "a", line: { color: C.purple } }
    ];
    if (d.it !== null) traces.push({ name: "IT load now", x: x, y: d.t.map(function () { return d.it; }), line: { color: C.orange, dash: "dash", width: 3 } });
    Plotly.react(target, traces, Object.assign({}, LAYOUT, WALL ? { height: 150, margin: { l: 50, r: 10, t: 10, b: 30 }, showlegend: false } : { title: { text: "kW the thermal side can absorb", font: { size: 16 } } }), { displaylogo: false, responsive: true });
  }
  // After the settle, not the swap: htmx settles by putting back the attributes of elements
  // whose id the old content had too, which would strip Plotly's own class from the chart
  // drawn at swap time (and with it Plotly's styles: white toolbar squares, legend adrift).
  document.body.addEventListener("htmx:afterSettle", function (e) { if (e.detail.target && e.detail.target.id === "capacity") drawCapacity(); });

  load();
})();
