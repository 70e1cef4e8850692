package io.decodefleet.coordinator.metrics;

import java.util.Locale;

/**
 * Renders a run's result as the table {@code vllm bench serve} prints, so the two read side by
 * side: a 50-character-wide block, labels on the left, values right-aligned, times with two
 * decimals in milliseconds, followed by a section per agent. A sweep also gets a compact summary,
 * one row per world size ({@link #renderSweep}).
 */
public final class ConsoleTable {

  /** vLLM's table width, characters. */
  static final int WIDTH = 50;

  /** Width of the agent column in the per-agent section; widened for longer ids. */
  private static final int AGENT_COLUMN = 26;

  private static final int REQUESTS_COLUMN = 10;

  private ConsoleTable() {}

  /**
   * The table of one sweep point: a row with its value on the sweep's axis first ("World size:",
   * "Request rate (req/s):" or "Max concurrency:"), and a "Request goodput (req/s):" row when the
   * point's goodput was measured (SLOs given), as vLLM shows it.
   */
  public static String render(SweepPoint point) {
    return render(point, PercentileSpec.DEFAULT);
  }

  /**
   * As {@link #render(SweepPoint)}; each latency has its mean, standard deviation and median, and
   * the metrics {@code percentiles} covers a "P{p}" row per percentile, as vLLM prints them.
   */
  public static String render(SweepPoint point, PercentileSpec percentiles) {
    return table(point, point.result(), percentiles);
  }

  /**
   * The sweep summary: one row per point with request and output-token throughput, scaling
   * efficiency in percent (world-size sweeps), and median and P99 TTFT and TPOT in ms; a goodput column when SLOs
   * were given. See {@link SweepSummaryTable}.
   */
  public static String renderSweep(SweepReport report) {
    return SweepSummaryTable.render(report);
  }

  private static String table(SweepPoint point, BenchmarkResult r, PercentileSpec percentiles) {
    StringBuilder out = new StringBuilder();
    line(out, centered(" Serving Benchmark Result ", '='));
    String label = point.axis() == SweepAxis.REQUEST_RATE ? "Request rate (req/s):" : point.axis().label() + ":";
    row(out, label, point.axis().format(point.axisValue()));
    row(out, "Successful requests:", Integer.toString(r.completed()));
    row(out, "Failed requests:", Integer.toString(r.failed()));
    row(out, "Benchmark duration (s):", decimal(r.durationSeconds()));
    row(out, "Total input tokens:", Long.toString(r.totalInputTokens()));
    row(out, "Total generated tokens:", Long.toString(r.totalOutputTokens()));
    row(out, "Request throughput (req/s):", decimal(r.requestThroughput()));
    if (r.hasGoodput()) {
      row(out, "Request goodput (req/s):", decimal(r.requestGoodput()));
    }
    row(out, "Output token throughput (tok/s):", decimal(r.outputTokenThroughput()));
    row(out, "Total token throughput (tok/s):", decimal(r.totalTokenThroughput()));
    latency(out, "Time to First Token", "TTFT", r.ttftMs(), percentiles.covers("ttft") ? percentiles : null);
    latency(out, "Time per Output Token (excl. 1st token)", "TPOT", r.tpotMs(),
        percentiles.covers("tpot") ? percentiles : null);
    latency(out, "Inter-token Latency", "ITL", r.itlMs(), percentiles.covers("itl") ? percentiles : null);
    latency(out, "End-to-end Latency", "E2EL", r.e2eMs(), percentiles.covers("e2el") ? percentiles : null);
    agents(out, r);
    if (r.migrations() > 0) {
      row(out, "Migrations:", Integer.toString(r.migrations()));
    }
    line(out, "=".repeat(WIDTH));
    return out.toString();
  }

  /** @param percentiles the percentile rows to print; null: none */
  private static void latency(StringBuilder out, String title, String name, LatencyStats stats,
      PercentileSpec percentiles) {
    line(out, centered(title, '-'));
    row(out, "Mean " + name + " (ms):", decimal(stats.mean()));
    row(out, "Std " + name + " (ms):", decimal(stats.std()));
    row(out, "Median " + name + " (ms):", decimal(stats.median()));
    if (percentiles == null) return;
    for (double p : percentiles.percentiles()) {
      row(out, "P" + PercentileSpec.word(p) + " " + name + " (ms):", decimal(stats.percentile(p)));
    }
  }

  private static void agents(StringBuilder out, BenchmarkResult r) {
    line(out, centered("Agents", '-'));
    int agentWidth = AGENT_COLUMN;
    for (AgentStats agent : r.agents()) {
      agentWidth = Math.max(agentWidth, agent.agentId().length() + 1);
    }
    int tokensWidth = WIDTH - AGENT_COLUMN - REQUESTS_COLUMN;
    String format = "%-" + agentWidth + "s%" + REQUESTS_COLUMN + "s%" + tokensWidth + "s";
    line(out, String.format(Locale.ROOT, format, "Agent", "Requests", "Output tokens"));
    for (AgentStats agent : r.agents()) {
      line(out, String.format(Locale.ROOT, format,
          agent.agentId(), agent.requests(), agent.outputTokens()));
    }
  }

  /** A label and a value, the value right-aligned to the table width (at least one space apart). */
  private static void row(StringBuilder out, String label, String value) {
    int gap = Math.max(1, WIDTH - label.length() - value.length());
    line(out, label + " ".repeat(gap) + value);
  }

  /** Centres {@code text} in {@code fill}, extra fill on the right, as Python's "{:^50}" does. */
  static String centered(String text, char fill) {
    return centered(text, fill, WIDTH);
  }

  /** Centres {@code text} in {@code fill} over {@code width} characters, extra fill right. */
  static String centered(String text, char fill, int width) {
    int pad = Math.max(0, width - text.length());
    int left = pad / 2;
    return String.valueOf(fill).repeat(left) + text + String.valueOf(fill).repeat(pad - left);
  }

  /** Two decimals, '.' as separator whatever the default locale; "n/a" for NaN or infinity. */
  static String decimal(double value) {
    return Double.isFinite(value) ? String.format(Locale.ROOT, "%.2f", value) : "n/a";
  }

  private static void line(StringBuilder out, String text) {
    out.append(text).append('\n');
  }
}
