// report.html's charts, drawn with uPlot from the inline JSON blob #report-data (see ReportHtml).
// When every chart is drawn, <body> gets data-charts (their number) and data-status="ok"; an
// error anywhere sets data-status to "error: ..." instead, so a headless browser can tell.
(function () {
  "use strict";
  var body = document.body;
  var failed = false;
  function fail(message) {
    failed = true;
    body.dataset.status = "error: " + message;
  }
  window.addEventListener("error", function (e) { fail(e.message); });

  var FONT = "12px sans-serif";
  var BOLD = "bold 12px sans-serif";
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf"];
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var report = data.report;
  var points = report.points;
  var labels = data.labels;
  var root = document.getElementById("report");
  var drawn = 0;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function section(title, note) {
    root.appendChild(el("h2", title));
    if (note) root.appendChild(el("p", note, "note"));
  }
  function fmt(v, digits) {
    return v == null ? "n/a" : Number(v).toFixed(digits == null ? 2 : digits);
  }
  function color(i) { return COLORS[i % COLORS.length]; }
  function axis(label, extra) {
    var a = { font: FONT, labelFont: BOLD, label: label, stroke: "#333", grid: { stroke: "#eee" } };
    for (var k in extra) a[k] = extra[k];
    return a;
  }
  function chart(title, opts, series) {
    if (title) root.appendChild(el("h3", title));
    var box = el("div", null, "chart");
    root.appendChild(box);
    opts.width = Math.max(480, root.clientWidth || 960);
    opts.height = opts.height || 300;
    new uPlot(opts, series, box);
    drawn++;
  }

  // Sweep points on a categorical x axis: one slot per point, labelled with its axis value
  // ("inf" included), so 1, 2, 4, 8 or 4, 16, inf are evenly spaced.
  var xs = points.map(function (p, i) { return i; });
  function sweepOpts(yLabel, extraScales) {
    var scales = { x: { time: false, range: [-0.5, points.length - 0.5] } };
    for (var k in extraScales) scales[k] = extraScales[k];
    return {
      scales: scales,
      axes: [
        axis(data.axis.title, {
          splits: function () { return xs; },
          values: function (u, splits) { return splits.map(function (i) { return labels[i] || ""; }); }
        }),
        axis(yLabel)
      ],
      series: [{ label: data.axis.label, value: function (u, i) { return i == null ? "" : labels[i]; } }]
    };
  }
  function line(label, i, scale) {
    return { label: label, stroke: color(i), width: 2, scale: scale || "y", points: { show: true, size: 7 } };
  }
  function column(key) {
    return points.map(function (p) { return p[key] == null ? null : p[key]; });
  }

  // ---- header and summary table ----
  var meta = document.getElementById("meta");
  meta.textContent = [report.command, report.started_at, report.hardware, "backend " + report.backend,
    "model " + report.model].join(" \u00b7 ");
  if (report.simulated) {
    // A simulated sweep says so above everything else: no request ran on a device.
    var sim = report.simulation;
    var banner = el("p", "SIMULATED" + (sim.kind === "projection" ? " from a PROJECTION" : "") + ": step times from the "
      + sim.kind + " calibration " + sim.calibration + " (" + sim.device + ", " + sim.table + "); no request ran on a "
      + "device." + (sim.failures.length ? " Agents lost: " + sim.failures.join(", ") + "." : ""));
    banner.id = "simulated";
    banner.className = "simulated";
    root.appendChild(banner);
  }
  section("Summary", "Latencies in ms, over completed requests, with the definitions of vllm bench serve.");
  var table = el("table");
  var head = el("tr");
  [data.axis.label, "completed", "failed", "duration s", "req/s", "output tok/s", "TTFT mean", "TTFT p50",
    "TPOT mean", "TPOT p50", "ITL mean", "E2EL mean"].forEach(function (h) { head.appendChild(el("th", h)); });
  table.appendChild(head);
  points.forEach(function (p, i) {
    var row = el("tr");
    [labels[i], p.completed, p.failed, fmt(p.duration), fmt(p.request_throughput), fmt(p.output_throughput),
      fmt(p.mean_ttft_ms), fmt(p.median_ttft_ms), fmt(p.mean_tpot_ms), fmt(p.median_tpot_ms), fmt(p.mean_itl_ms),
      fmt(p.mean_e2el_ms)].forEach(function (v) { row.appendChild(el("td", String(v))); });
    table.appendChild(row);
  });
  root.appendChild(table);

  // ---- throughput and latency percentiles against the sweep's axis ----
  section("Throughput and latency by " + data.axis.noun,
    "Drag to zoom, double-click to reset; click a legend entry to hide its series.");
  var tput = sweepOpts("output tokens/s", { req: { auto: true } });
  tput.axes.push(axis("requests/s", { side: 1, scale: "req", grid: { show: false } }));
  tput.series.push(line("output tok/s", 0), line("requests/s", 1, "req"));
  chart("Throughput", tput, [xs, column("output_throughput"), column("request_throughput")]);

  var asked = report.percentiles;
  [["ttft", "TTFT"], ["tpot", "TPOT"], ["itl", "ITL"], ["e2el", "E2EL"]].forEach(function (m) {
    var opts = sweepOpts(m[1] + " (ms)");
    var series = [xs];
    var keys = [["mean", "mean_" + m[0] + "_ms"], ["median", "median_" + m[0] + "_ms"]];
    if (asked.metrics.indexOf(m[0]) >= 0) {
      asked.percentiles.forEach(function (p) {
        var word = String(p); // 99 or 99.9, as the keys name them
        keys.push(["p" + word, "p" + word + "_" + m[0] + "_ms"]);
      });
    }
    keys.forEach(function (k, i) {
      opts.series.push(line(k[0], i));
      series.push(column(k[1]));
    });
    chart(m[1] + " by " + data.axis.noun, opts, series);
  });

  // ---- per-request scatter: one series per sweep point ----
  function scatter(title, xLabel, yLabel, sets, note) {
    // uPlot's facet mode (mode 2): each series carries its own x and y arrays; the points are
    // drawn here, after uPlot has laid out the scales.
    var series = [{}];
    var aligned = [null];
    sets.forEach(function (s, i) {
      series.push({ label: s.label, stroke: color(i), fill: color(i), paths: function () { return null; },
        points: { show: false }, facets: [{ scale: "x", auto: true }, { scale: "y", auto: true }] });
      aligned.push([s.x, s.y]);
    });
    // 5% of the data's span on each side, never below 0 for data that is not.
    function padded(u, min, max) {
      if (min == null || max == null) return [0, 1];
      var d = max - min || Math.abs(max) || 1;
      var lo = min - 0.05 * d;
      return [min >= 0 ? Math.max(0, lo) : lo, max + 0.05 * d];
    }
    var opts = {
      mode: 2,
      scales: { x: { time: false, range: padded }, y: { range: padded } },
      axes: [axis(xLabel), axis(yLabel)],
      legend: { live: false },
      cursor: { drag: { x: true, y: true } },
      series: series,
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          var size = 4 * devicePixelRatio;
          ctx.save();
          ctx.beginPath();
          ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
          ctx.clip();
          for (var si = 1; si < u.series.length; si++) {
            if (!u.series[si].show) continue;
            ctx.fillStyle = u.series[si].stroke();
            ctx.globalAlpha = 0.7;
            var d = u.data[si];
            for (var k = 0; k < d[0].length; k++) {
              if (d[0][k] == null || d[1][k] == null) continue;
              var px = u.valToPos(d[0][k], "x", true);
              var py = u.valToPos(d[1][k], "y", true);
              ctx.fillRect(px - size / 2, py - size / 2, size, size);
            }
          }
          ctx.restore();
        }]
      }
    };
    if (note) root.appendChild(el("p", note, "note"));
    chart(title, opts, aligned);
  }
  var requests = data.requests;
  var sampled = requests.some(function (r) { return r.shown < r.total; });
  section("Requests", "One dot per completed request" + (sampled ? " (an even sample of large points)" : "")
    + "; one colour per " + data.axis.noun + ".");
  scatter("TTFT vs end-to-end latency", "TTFT (ms)", "E2E latency (ms)", requests.map(function (r, i) {
    return { label: data.axis.noun + " " + labels[i], x: r.ttft, y: r.e2e };
  }));
  scatter("Release time vs end-to-end latency", "released (ms after the start)", "E2E latency (ms)",
    requests.map(function (r, i) {
      return { label: data.axis.noun + " " + labels[i], x: r.release, y: r.e2e };
    }));

  // ---- per-agent step timeline ----
  section("Agents' steps", "Each dot is one step report that carried tokens, as it reached the coordinator: its "
    + "time and how many tokens it carried (sequences that moved between agents left out).");
  data.timeline.forEach(function (agents, i) {
    var sets = agents.map(function (a) { return { label: a.agent, x: a.t, y: a.tokens }; });
    if (sets.length == 0) {
      root.appendChild(el("p", data.axis.noun + " " + labels[i] + ": no tokens", "note"));
      return;
    }
    scatter(data.axis.label + " " + labels[i] + ": tokens per step report", "time (s after the start)",
      "tokens", sets);
  });
  var agentTable = el("table");
  var agentHead = el("tr");
  [data.axis.label, "agent", "requests", "output tokens", "device"].forEach(function (h) {
    agentHead.appendChild(el("th", h));
  });
  agentTable.appendChild(agentHead);
  points.forEach(function (p, i) {
    (p.agents || []).forEach(function (a) {
      var row = el("tr");
      [labels[i], a.agent_id, a.requests, a.output_tokens, a.device || ""].forEach(function (v) {
        row.appendChild(el("td", String(v)));
      });
      agentTable.appendChild(row);
    });
  });
  root.appendChild(agentTable);
  points.forEach(function (p, i) {
    var e = p.engine || {};
    if (!e.step_time_by_batch || e.step_time_by_batch.length == 0) return;
    root.appendChild(el("p", data.axis.noun + " " + labels[i] + ": " + e.reported_steps + " steps, mean "
      + fmt(e.mean_step_ms) + " ms; by batch bucket: " + e.step_time_by_batch.map(function (b) {
        return b.batch_bucket + ": " + fmt(b.mean_step_ms) + " ms (" + b.steps + ")";
      }).join(", "), "note"));
  });

  // ---- per-kernel-family breakdown (--profile-steps) ----
  var profiled = points.filter(function (p) { return p.profile; });
  if (profiled.length > 0) {
    section("Decode step by kernel family", "Time per profiled decode step per kernel family, its share of the step "
      + "and its floor (bytes / measured bandwidth) where known.");
    points.forEach(function (p, i) {
      var prof = p.profile;
      if (!prof) return;
      var fam = prof.families;
      var names = fam.map(function (f) { return f.family; });
      var idx = fam.map(function (f, k) { return k; });
      var opts = {
        scales: { x: { time: false, range: [-0.5, fam.length - 0.5] } },
        axes: [axis("", { splits: function () { return idx; }, size: 60, rotate: -30,
          values: function (u, splits) { return splits.map(function (k) { return names[k] || ""; }); } }),
          axis("ms per step")],
        series: [{ label: "family", value: function (u, k) { return k == null ? "" : names[k]; } },
          { label: "ms per step", stroke: color(0), fill: color(0) + "aa",
            paths: uPlot.paths.bars({ size: [0.6, 60] }), points: { show: false } },
          { label: "floor ms", stroke: color(1), fill: color(1) + "aa",
            paths: uPlot.paths.bars({ size: [0.3, 30], align: 1 }), points: { show: false } }]
      };
      chart(data.axis.label + " " + labels[i] + ": " + prof.steps + " steps of " + prof.backend + ", mean batch "
        + fmt(prof.mean_batch, 1) + ", step " + fmt(prof.step_ms, 3) + " ms", opts,
        [idx, fam.map(function (f) { return f.ms_per_step; }), fam.map(function (f) { return f.floor_ms; })]);
      var t = el("table");
      var h = el("tr");
      ["family", "ms per step", "share", "", "floor ms"].forEach(function (x) { h.appendChild(el("th", x)); });
      t.appendChild(h);
      fam.forEach(function (f) {
        var r = el("tr");
        r.appendChild(el("td", f.family));
        r.appendChild(el("td", fmt(f.ms_per_step, 4)));
        r.appendChild(el("td", fmt(100 * f.share, 1) + "%"));
        var barCell = el("td");
        var bar = el("span", null, "bar");
        bar.style.width = Math.round(200 * f.share) + "px";
        barCell.appendChild(bar);
        r.appendChild(barCell);
        r.appendChild(el("td", f.floor_ms == null ? "" : fmt(f.floor_ms, 4)));
        t.appendChild(r);
      });
      root.appendChild(t);
    });
  }

  // ---- expert load (a mixture of experts) ----
  var moe = points.filter(function (p) { return p.expert_load; });
  if (moe.length > 0) {
    section("Expert load", "Tokens each expert of each layer took over the run's steps (all agents), the layer's "
      + "imbalance (busiest expert over the mean; 1 is even) and tokens dropped over capacity.");
    points.forEach(function (p, i) {
      var x = p.expert_load;
      if (!x) return;
      root.appendChild(el("p", data.axis.noun + " " + labels[i] + ": " + x.layers + " layers x " + x.experts
        + " experts, " + x.token_expert_pairs + " token-expert pairs, max imbalance " + fmt(x.max_imbalance, 2)
        + ", " + x.dropped + " dropped", "note"));
      var t = el("table");
      var h = el("tr");
      h.appendChild(el("th", "layer"));
      for (var e = 0; e < x.experts; e++) h.appendChild(el("th", "e" + e));
      h.appendChild(el("th", "imbalance"));
      h.appendChild(el("th", "dropped"));
      t.appendChild(h);
      x.per_layer.forEach(function (l) {
        var r = el("tr");
        r.appendChild(el("td", String(l.layer)));
        l.tokens.forEach(function (n) { r.appendChild(el("td", String(n))); });
        r.appendChild(el("td", fmt(l.imbalance, 2)));
        r.appendChild(el("td", String(l.dropped.reduce(function (a, b) { return a + b; }, 0))));
        t.appendChild(r);
      });
      root.appendChild(t);
    });
  }

  if (!failed) {
    body.dataset.charts = String(drawn);
    body.dataset.status = "ok";
  }
})();
