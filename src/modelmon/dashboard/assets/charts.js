/* modelmon charts: draws every element with class "mm-chart" from the JSON in the <script> its
   data-src names. Kinds: series (uPlot: lines, a band, markers), bars (grouped bars), heatmap
   (features x time) and strip (a status per window). Each chart sets data-points to the number
   of values it drew (0: nothing to draw), so tests and people can tell an empty chart apart. */
(function () {
  "use strict";
  var STATUS_COLORS = { healthy: "#2e9d5b", warning: "#e0a400", degraded: "#d64541",
    no_data: "#b9c0c8" };
  var PALETTE = ["#3b6fd8", "#e07b39", "#2e9d5b", "#8e5bd6", "#d64541", "#1aa3a3", "#a0522d",
    "#7a7f87"];
  var MARKER_COLORS = { alert: "#d64541", detector: "#8e5bd6", version: "#1aa3a3",
    schema: "#e0a400" };

  function fmt(v) {
    if (v === null || v === undefined || isNaN(v)) return "–";
    var a = Math.abs(v);
    if (a !== 0 && (a < 0.001 || a >= 1e6)) return v.toExponential(2);
    if (a >= 100) return v.toFixed(0);
    if (a >= 1) return v.toFixed(2);
    return v.toFixed(3);
  }

  function when(t) {
    var d = new Date(t * 1000);
    return d.toISOString().slice(0, 16).replace("T", " ");
  }

  function width(el) {
    return Math.max(240, Math.floor(el.getBoundingClientRect().width || el.clientWidth || 600));
  }

  function canvas(el, w, h) {
    var c = document.createElement("canvas");
    var r = window.devicePixelRatio || 1;
    c.width = w * r; c.height = h * r;
    c.style.width = w + "px"; c.style.height = h + "px";
    el.appendChild(c);
    var ctx = c.getContext("2d");
    ctx.scale(r, r);
    ctx.font = "11px system-ui, sans-serif";
    return { canvas: c, ctx: ctx };
  }

  function tooltip(el) {
    var tip = document.createElement("div");
    tip.className = "mm-tip";
    tip.style.display = "none";
    el.style.position = "relative";
    el.appendChild(tip);
    return tip;
  }

  function count(values) {
    var n = 0;
    for (var i = 0; i < values.length; i++) {
      if (values[i] !== null && values[i] !== undefined) n++;
    }
    return n;
  }

  /* --- series (uPlot) ------------------------------------------------------------------------- */
  function series(el, spec) {
    var data = [spec.x];
    var opts = {
      width: width(el), height: spec.height || 200,
      series: [{ value: function (u, v) { return v == null ? "–" : when(v); } }],
      axes: [{}, { size: 56, values: function (u, vals) { return vals.map(fmt); } }],
      scales: { x: { time: true } },
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      hooks: { draw: [] },
    };
    if (spec.y) opts.scales.y = { range: function (u, lo, hi) {
      return [spec.y.min == null ? lo : Math.min(lo, spec.y.min),
              spec.y.max == null ? hi : Math.max(hi, spec.y.max)]; } };
    var drawn = 0;
    spec.series.forEach(function (s, i) {
      data.push(s.values);
      drawn += count(s.values);
      opts.series.push({ label: s.label, stroke: s.color || PALETTE[i % PALETTE.length],
        width: 1.5, spanGaps: false, dash: s.dash || undefined, points: { show: spec.x.length < 60 },
        value: function (u, v) { return fmt(v); } });
    });
    if (spec.band) {
      var hi = data.length;
      data.push(spec.band.hi); data.push(spec.band.lo);
      var band = { stroke: "rgba(46,157,91,0.5)", width: 1, dash: [4, 4], points: { show: false },
        value: function (u, v) { return fmt(v); } };
      opts.series.push(Object.assign({ label: "band high" }, band));
      opts.series.push(Object.assign({ label: "band low" }, band));
      opts.bands = [{ series: [hi, hi + 1], fill: "rgba(46,157,91,0.12)" }];
    }
    var markers = spec.markers || [];
    if (markers.length) {
      opts.hooks.draw.push(function (u) {
        var ctx = u.ctx, top = u.bbox.top, bottom = u.bbox.top + u.bbox.height;
        ctx.save();
        markers.forEach(function (m) {
          var x = u.valToPos(m.t, "x", true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
          ctx.strokeStyle = MARKER_COLORS[m.kind] || "#555";
          ctx.lineWidth = m.kind === "version" ? 2 : 1;
          ctx.setLineDash(m.kind === "detector" ? [3, 3] : []);
          ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
          ctx.fillStyle = ctx.strokeStyle;
          ctx.beginPath(); ctx.arc(x, top + 4, 3.5 * (window.devicePixelRatio || 1), 0, 7);
          ctx.fill();
        });
        ctx.restore();
      });
    }
    if (markers.length && spec.x.length) {
      /* an alert fires after the window it judged: widen the x range to show its marker */
      var lo = spec.x[0], hi = spec.x[spec.x.length - 1];
      markers.forEach(function (m) { lo = Math.min(lo, m.t); hi = Math.max(hi, m.t); });
      opts.scales.x.range = function (u, a, b) {
        return [Math.min(a, lo), Math.max(b, hi)]; };
    }
    var plot = new uPlot(opts, data, el);
    el._plot = plot;
    if (spec.band) {
      var rows = plot.root.querySelectorAll(".u-legend .u-series");
      for (var k = rows.length - 2; k < rows.length; k++) {
        if (k > 0 && rows[k]) rows[k].style.display = "none";
      }
    }
    if (markers.length) {
      var list = document.createElement("div");
      list.className = "mm-markers";
      var kinds = {};
      markers.forEach(function (m) { kinds[m.kind] = (kinds[m.kind] || 0) + 1; });
      Object.keys(kinds).forEach(function (k) {
        var s = document.createElement("span");
        s.className = "mm-marker-key";
        s.style.borderColor = MARKER_COLORS[k] || "#555";
        s.textContent = k + " (" + kinds[k] + ")";
        list.appendChild(s);
      });
      el.appendChild(list);
      var tip = tooltip(el);
      plot.over.addEventListener("mousemove", function (e) {
        var near = null, best = 6;
        markers.forEach(function (m) {
          var d = Math.abs(plot.valToPos(m.t, "x") - e.offsetX);
          if (d < best) { best = d; near = m; }
        });
        if (near) {
          tip.textContent = near.kind + " · " + when(near.t) + " · " + near.label;
          tip.style.left = (e.offsetX + 60) + "px"; tip.style.top = "8px";
          tip.style.display = "block";
        } else { tip.style.display = "none"; }
      });
      plot.over.addEventListener("mouseleave", function () { tip.style.display = "none"; });
    }
    return drawn;
  }

  /* --- grouped bars ---------------------------------------------------------------------------- */
  function bars(el, spec) {
    var w = width(el), h = spec.height || 200, pad = { l: 48, r: 8, t: 8, b: 46 };
    var c = canvas(el, w, h), ctx = c.ctx;
    var cats = spec.categories, groups = spec.series;
    var max = 0;
    groups.forEach(function (g) { g.values.forEach(function (v) { if (v > max) max = v; }); });
    if (max <= 0) max = 1;
    var plotW = w - pad.l - pad.r, plotH = h - pad.t - pad.b;
    var slot = plotW / Math.max(cats.length, 1), bw = Math.max(1, slot * 0.8 / groups.length);
    ctx.strokeStyle = "#ccd"; ctx.fillStyle = "#555";
    for (var k = 0; k <= 4; k++) {
      var y = pad.t + plotH - plotH * k / 4;
      ctx.beginPath(); ctx.moveTo(pad.l, y); ctx.lineTo(w - pad.r, y); ctx.stroke();
      ctx.fillText(fmt(max * k / 4), 4, y + 4);
    }
    var drawn = 0;
    groups.forEach(function (g, gi) {
      ctx.fillStyle = g.color || PALETTE[gi % PALETTE.length];
      g.values.forEach(function (v, i) {
        if (v === null || v === undefined) return;
        drawn++;
        var bh = plotH * v / max;
        ctx.fillRect(pad.l + i * slot + slot * 0.1 + gi * bw, pad.t + plotH - bh, bw - 1, bh);
      });
    });
    ctx.fillStyle = "#333";
    var every = Math.ceil(cats.length / Math.max(1, Math.floor(plotW / 60)));
    cats.forEach(function (label, i) {
      if (i % every) return;
      ctx.save();
      ctx.translate(pad.l + i * slot + slot / 2, h - pad.b + 12);
      ctx.rotate(-0.35);
      ctx.fillText(String(label).slice(0, 14), -10, 0);
      ctx.restore();
    });
    var legend = document.createElement("div");
    legend.className = "mm-legend";
    groups.forEach(function (g, gi) {
      var s = document.createElement("span");
      s.innerHTML = "<i style='background:" + (g.color || PALETTE[gi % PALETTE.length]) +
        "'></i>";
      s.appendChild(document.createTextNode(g.label));
      legend.appendChild(s);
    });
    el.appendChild(legend);
    var tip = tooltip(el);
    c.canvas.addEventListener("mousemove", function (e) {
      var i = Math.floor((e.offsetX - pad.l) / slot);
      if (i < 0 || i >= cats.length) { tip.style.display = "none"; return; }
      tip.textContent = cats[i] + ": " + groups.map(function (g) {
        return g.label + " " + fmt(g.values[i]); }).join(" · ");
      tip.style.left = Math.min(e.offsetX + 12, w - 200) + "px"; tip.style.top = "4px";
      tip.style.display = "block";
    });
    c.canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
    return drawn;
  }

  /* --- heatmap: rows x time, a score per cell (>= 1: drifted) ---------------------------------- */
  function heatColor(v) {
    if (v === null || v === undefined) return "#eef0f3";
    var t = Math.max(0, Math.min(v / 2, 1));
    if (v < 1) return "rgb(" + Math.round(255 - 30 * t * 2) + "," +
      Math.round(250 - 90 * t * 2) + "," + Math.round(235 - 180 * t * 2) + ")";
    return "rgb(" + Math.round(230 - 40 * (t - 0.5) * 2) + "," + Math.round(90 - 60 * (t - 0.5) * 2) +
      ",50)";
  }

  function heatmap(el, spec) {
    var rows = spec.rows, x = spec.x, cells = spec.cells;
    var labelW = Math.min(180, 12 + 7 * Math.max.apply(null, rows.map(function (r) {
      return String(r).length; }).concat([4])));
    var w = width(el), rowH = 16, h = rows.length * rowH + 24;
    var c = canvas(el, w, h), ctx = c.ctx;
    var cw = (w - labelW - 4) / Math.max(x.length, 1), drawn = 0;
    rows.forEach(function (name, r) {
      ctx.fillStyle = "#333";
      ctx.fillText(String(name).slice(0, 26), 2, r * rowH + 12);
      for (var i = 0; i < x.length; i++) {
        var v = cells[r][i];
        if (v !== null && v !== undefined) drawn++;
        ctx.fillStyle = heatColor(v);
        ctx.fillRect(labelW + i * cw, r * rowH + 1, Math.max(cw - 0.5, 0.5), rowH - 2);
      }
    });
    ctx.fillStyle = "#555";
    if (x.length) {
      ctx.fillText(when(x[0]), labelW, h - 6);
      var last = when(x[x.length - 1]);
      ctx.fillText(last, w - ctx.measureText(last).width - 4, h - 6);
    }
    var tip = tooltip(el);
    c.canvas.addEventListener("mousemove", function (e) {
      var r = Math.floor(e.offsetY / rowH), i = Math.floor((e.offsetX - labelW) / cw);
      if (r < 0 || r >= rows.length || i < 0 || i >= x.length) {
        tip.style.display = "none"; return; }
      tip.textContent = rows[r] + " · " + when(x[i]) + " · drift score " + fmt(cells[r][i]);
      tip.style.left = Math.min(e.offsetX + 12, w - 260) + "px";
      tip.style.top = (e.offsetY + 12) + "px";
      tip.style.display = "block";
    });
    c.canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
    if (spec.link) {
      c.canvas.style.cursor = "pointer";
      c.canvas.addEventListener("click", function (e) {
        var r = Math.floor(e.offsetY / rowH), i = Math.floor((e.offsetX - labelW) / cw);
        if (r < 0 || r >= rows.length || i < 0 || i >= x.length) return;
        window.location = spec.link.replace("{feature}", encodeURIComponent(rows[r]))
          .replace("{at}", encodeURIComponent(new Date(x[i] * 1000).toISOString()));
      });
    }
    return drawn;
  }

  /* --- status strip: one coloured cell per window ---------------------------------------------- */
  function strip(el, spec) {
    var w = width(el), h = spec.height || 26;
    var c = canvas(el, w, h), ctx = c.ctx, n = spec.x.length;
    var cw = w / Math.max(n, 1);
    for (var i = 0; i < n; i++) {
      ctx.fillStyle = STATUS_COLORS[spec.status[i]] || "#999";
      ctx.fillRect(i * cw, 0, Math.max(cw - (cw > 3 ? 0.5 : 0), 0.5), h);
    }
    var tip = tooltip(el);
    c.canvas.addEventListener("mousemove", function (e) {
      var i = Math.floor(e.offsetX / cw);
      if (i < 0 || i >= n) { tip.style.display = "none"; return; }
      tip.textContent = when(spec.x[i]) + " · " + spec.status[i] +
        (spec.reasons && spec.reasons[i] ? " · " + spec.reasons[i] : "");
      tip.style.left = Math.min(e.offsetX + 12, w - 320) + "px"; tip.style.top = h + 4 + "px";
      tip.style.display = "block";
    });
    c.canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
    return n;
  }

  var KINDS = { series: series, bars: bars, heatmap: heatmap, strip: strip };

  function draw(el) {
    var src = document.getElementById(el.getAttribute("data-src"));
    if (!src) { el.setAttribute("data-points", "0"); return; }
    var spec = JSON.parse(src.textContent);
    el.innerHTML = "";
    var drawn = 0;
    try {
      drawn = KINDS[spec.kind](el, spec);
    } finally {
      el.setAttribute("data-points", String(drawn));
    }
    if (!drawn) {
      var p = document.createElement("p");
      p.className = "mm-empty";
      p.textContent = spec.empty || "no data in this range";
      el.appendChild(p);
    }
  }

  /* Charts near the viewport are drawn at once; the rest a few per frame after the page shows,
     so a long page (forty charts) is on screen before its last chart is drawn. */
  function drawAll() {
    var els = document.querySelectorAll(".mm-chart"), later = [];
    var fold = (window.innerHeight || 800) * 1.5;
    for (var i = 0; i < els.length; i++) {
      if (els[i].getBoundingClientRect().top < fold) draw(els[i]);
      else later.push(els[i]);
    }
    function next() {
      for (var k = 0; k < 4 && later.length; k++) draw(later.shift());
      if (later.length) window.requestAnimationFrame(next);
    }
    if (later.length) window.requestAnimationFrame(next);
  }

  window.modelmonCharts = { draw: draw, drawAll: drawAll, fmt: fmt };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else { drawAll(); }
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(drawAll, 200);
  });
})();
