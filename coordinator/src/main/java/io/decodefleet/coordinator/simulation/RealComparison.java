package io.decodefleet.coordinator.simulation;

import io.decodefleet.coordinator.metrics.BenchmarkResult;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The same workload and seed, run for real and simulated, side by side per world size: output
 * throughput and TTFT and TPOT at p50 and p99, each real, simulated and the simulated value's
 * difference from the real one in percent. The targets: throughput and the p50s within 10 %, the p99s
 * within 25 %.
 */
public record RealComparison(List<Row> rows) {

  /** Throughput and p50s: within this fraction of the real value. */
  public static final double P50_TARGET = 0.10;
  /** p99s: within this fraction of the real value. */
  public static final double P99_TARGET = 0.25;

  public RealComparison {
    rows = List.copyOf(rows);
  }

  /** One metric at one world size. */
  public record Metric(double real, double simulated, double target) {
    /** (simulated − real) / real, in percent. */
    public double differencePercent() {
      return 100 * (simulated - real) / real;
    }

    public boolean withinTarget() {
      return Math.abs(simulated - real) <= target * Math.abs(real);
    }
  }

  /** One world size. */
  public record Row(int worldSize, Metric outputThroughput, Metric ttftP50, Metric ttftP99, Metric tpotP50,
      Metric tpotP99) {
    public List<Metric> metrics() {
      return List.of(outputThroughput, ttftP50, ttftP99, tpotP50, tpotP99);
    }
  }

  /**
   * The world sizes both sweeps ran, in order.
   *
   * @throws IllegalArgumentException when the sweeps are not both on the world-size axis or share no world size
   */
  public static RealComparison of(SweepReport real, SweepReport simulated) {
    List<Row> rows = new ArrayList<>();
    for (SweepPoint r : real.points()) {
      SweepPoint s = simulated.point(r.worldSize()).orElse(null);
      if (s == null) continue;
      BenchmarkResult a = r.withPercentiles(List.of(50.0, 99.0)).result();
      BenchmarkResult b = s.withPercentiles(List.of(50.0, 99.0)).result();
      rows.add(new Row(r.worldSize(),
          new Metric(a.outputTokenThroughput(), b.outputTokenThroughput(), P50_TARGET),
          new Metric(a.ttftMs().median(), b.ttftMs().median(), P50_TARGET),
          new Metric(a.ttftMs().percentile(99), b.ttftMs().percentile(99), P99_TARGET),
          new Metric(a.tpotMs().median(), b.tpotMs().median(), P50_TARGET),
          new Metric(a.tpotMs().percentile(99), b.tpotMs().percentile(99), P99_TARGET)));
    }
    if (rows.isEmpty()) throw new IllegalArgumentException("the real and simulated sweeps share no world size");
    return new RealComparison(rows);
  }

  /** Whether every metric of every world size is within its target. */
  public boolean withinTargets() {
    return rows.stream().allMatch(r -> r.metrics().stream().allMatch(Metric::withinTarget));
  }

  /**
   * A Markdown table: per world size and metric, real / simulated / difference, a difference outside
   * its target marked with "!".
   */
  public String render() {
    StringBuilder b = new StringBuilder();
    b.append("| world size | output tok/s (real / sim / diff) | TTFT p50 ms | TTFT p99 ms | TPOT p50 ms | TPOT p99 ms |\n");
    b.append("| --- | --- | --- | --- | --- | --- |\n");
    for (Row r : rows) {
      b.append("| ").append(r.worldSize());
      for (Metric m : r.metrics()) {
        b.append(String.format(Locale.ROOT, " | %s / %s / %+.1f %%%s", number(m.real()), number(m.simulated()),
            m.differencePercent(), m.withinTarget() ? "" : " !"));
      }
      b.append(" |\n");
    }
    b.append(String.format(Locale.ROOT, "diff = (simulated - real) / real; targets: throughput and p50s within %.0f %%, "
        + "p99s within %.0f %% (\"!\" marks a miss)%n", 100 * P50_TARGET, 100 * P99_TARGET));
    return b.toString();
  }

  private static String number(double v) {
    return String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
  }
}
