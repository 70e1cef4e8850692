package io.decodefleet.coordinator.simulation;

import io.decodefleet.coordinator.metrics.BenchmarkResult;
import io.decodefleet.coordinator.metrics.LatencyStats;
import io.decodefleet.coordinator.metrics.RequestRecord;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The same workload and seed, run for real and simulated, side by side per world size: output
 * throughput and TTFT and TPOT at p50 and p99, each real, simulated and the simulated value's
 * difference from the real one in percent. The targets: throughput and the p50s within 10 %, the p99s
 * within 25 %. Beside it, per world size, where each side's TTFT went ({@link Split}). Several real runs
 * of the same workload ({@code --real-runs}) compare by their median, with their spread shown.
 */
public record RealComparison(List<Row> rows, List<Split> splits, int realRuns) {

  /** Throughput and p50s: within this fraction of the real value. */
  public static final double P50_TARGET = 0.10;
  /** p99s: within this fraction of the real value. */
  public static final double P99_TARGET = 0.25;

  public RealComparison {
    rows = List.copyOf(rows);
    splits = List.copyOf(splits);
    if (realRuns < 1) throw new IllegalArgumentException("realRuns must be >= 1, got " + realRuns);
  }

  /** One real run. */
  public RealComparison(List<Row> rows, List<Split> splits) {
    this(rows, splits, 1);
  }

  /**
   * Medians over a side's completed requests of the agents' own account of a TTFT: the queue before
   * the first step, the prefill to the first token, and the rest (TTFT minus both: the messages to the
   * agent and back, with their handling). NaN where no request carries the agent's times.
   */
  public record Parts(double queueMs, double prefillMs, double messagesMs) {
    static Parts of(List<RequestRecord> requests) {
      List<RequestRecord> known = requests.stream()
          .filter(r -> r.completed() && Double.isFinite(r.queueMs()) && Double.isFinite(r.prefillMs())).toList();
      return new Parts(median(known, RequestRecord::queueMs), median(known, RequestRecord::prefillMs),
          median(known, r -> r.ttftMs() - r.queueMs() - r.prefillMs()));
    }
  }

  /**
   * One world size's TTFT split, real and simulated, and each request's release on the real side
   * against the simulated one (same workload and seed: the simulation releases at the schedule's
   * times), median and largest, ms: a real load generator late or in clumps shows here.
   */
  public record Split(int worldSize, Parts real, Parts simulated, double releaseOffsetP50Ms,
      double releaseOffsetMaxMs) {
    static Split of(int worldSize, List<RequestRecord> real, List<RequestRecord> simulated) {
      Map<Long, Double> scheduled = new HashMap<>();
      for (RequestRecord r : simulated) scheduled.put(r.requestId(), r.releasedMs());
      LatencyStats offsets = LatencyStats.of(real.stream().filter(r -> scheduled.containsKey(r.requestId()))
          .mapToDouble(r -> r.releasedMs() - scheduled.get(r.requestId())).toArray());
      boolean none = offsets.count() == 0;
      return new Split(worldSize, Parts.of(real), Parts.of(simulated), none ? Double.NaN : offsets.median(),
          none ? Double.NaN : offsets.max());
    }
  }

  /** The median as the reports compute it; NaN without samples. */
  private static double median(List<RequestRecord> requests, ToDoubleFunction<RequestRecord> value) {
    LatencyStats s = LatencyStats.of(requests.stream().mapToDouble(value).toArray());
    return s.count() == 0 ? Double.NaN : s.median();
  }

  /**
   * One metric at one world size.
   *
   * @param real the real run's value, or the median over several real runs
   * @param realSpread half the range of the real runs' values over their median (a fraction); NaN for one run
   */
  public record Metric(double real, double simulated, double target, double realSpread) {
    /** One real run. */
    public Metric(double real, double simulated, double target) {
      this(real, simulated, target, Double.NaN);
    }

    /** (simulated − real) / real, in percent. */
    public double differencePercent() {
      return 100 * (simulated - real) / real;
    }

    public boolean withinTarget() {
      return Math.abs(simulated - real) <= target * Math.abs(real);
    }

    /**
     * The same metric over several real runs of one workload against one simulation: the real runs'
     * median (the reports' percentile rule) and half their range.
     */
    static Metric across(List<Metric> runs) {
      if (runs.size() == 1) return runs.get(0);
      double[] reals = runs.stream().mapToDouble(Metric::real).toArray();
      LatencyStats s = LatencyStats.of(reals);
      double median = s.median();
      return new Metric(median, runs.get(0).simulated(), runs.get(0).target(), (s.max() - s.min()) / 2 / median);
    }
  }

  /** One world size. */
  public record Row(int worldSize, Metric outputThroughput, Metric ttftP50, Metric ttftP99, Metric tpotP50,
      Metric tpotP99) {
    public List<Metric> metrics() {
      return List.of(outputThroughput, ttftP50, ttftP99, tpotP50, tpotP99);
    }

    /** One world size, real against simulated: throughput and the TTFT and TPOT p50 and p99. */
    static Row of(SweepPoint real, SweepPoint simulated) {
      BenchmarkResult a = real.withPercentiles(List.of(50.0, 99.0)).result();
      BenchmarkResult b = simulated.withPercentiles(List.of(50.0, 99.0)).result();
      return new Row(real.worldSize(),
          new Metric(a.outputTokenThroughput(), b.outputTokenThroughput(), P50_TARGET),
          new Metric(a.ttftMs().median(), b.ttftMs().median(), P50_TARGET),
          new Metric(a.ttftMs().percentile(99), b.ttftMs().percentile(99), P99_TARGET),
          new Metric(a.tpotMs().median(), b.tpotMs().median(), P50_TARGET),
          new Metric(a.tpotMs().percentile(99), b.tpotMs().percentile(99), P99_TARGET));
    }

    /** One world size over several real runs: each metric's median and spread ({@link Metric#across}). */
    static Row across(List<Row> runs) {
      return new Row(runs.get(0).worldSize(), across(runs, Row::outputThroughput), across(runs, Row::ttftP50),
          across(runs, Row::ttftP99), across(runs, Row::tpotP50), across(runs, Row::tpotP99));
    }

    private static Metric across(List<Row> runs, java.util.function.Function<Row, Metric> metric) {
      return Metric.across(runs.stream().map(metric).toList());
    }
  }


  /**
   * The world sizes both sweeps ran, in order.
   *
   * @throws IllegalArgumentException when the sweeps are not both on the world-size axis or share no world size
   */
  public static RealComparison of(SweepReport real, SweepReport simulated) {
    return of(List.of(real), simulated);
  }

  /**
   * One or more real runs of the same workload and seed against one simulation, at the world sizes
   * they share with it: per world size each real figure is the runs' median, with half their range
   * beside it where there are several ({@link Metric#across}); the TTFT split pools every run's requests.
   *
   * @throws IllegalArgumentException when there is no real run, the runs share no world size with the
   *     simulation, or they did not run the same world sizes
   */
  public static RealComparison of(List<SweepReport> reals, SweepReport simulated) {
    if (reals.isEmpty()) throw new IllegalArgumentException("no real run");
    List<Integer> sizes = shared(reals.get(0), simulated);
    if (sizes.isEmpty()) throw new IllegalArgumentException("the real and simulated sweeps share no world size");
    for (SweepReport r : reals) {
      if (!shared(r, simulated).equals(sizes)) {
        throw new IllegalArgumentException("the real runs did not run the same world sizes");
      }
    }
    List<Row> rows = new ArrayList<>();
    List<Split> splits = new ArrayList<>();
    for (int size : sizes) {
      SweepPoint s = simulated.point(size).orElseThrow();
      List<Row> runs = new ArrayList<>();
      List<RequestRecord> pooled = new ArrayList<>();
      for (SweepReport r : reals) {
        SweepPoint p = r.point(size).orElseThrow();
        runs.add(Row.of(p, s));
        pooled.addAll(p.requests());
      }
      rows.add(Row.across(runs));
      splits.add(Split.of(size, pooled, s.requests()));
    }
    return new RealComparison(rows, splits, reals.size());
  }

  /** The world sizes of {@code real}, in its order, that {@code simulated} ran too. */
  private static List<Integer> shared(SweepReport real, SweepReport simulated) {
    return real.points().stream().map(SweepPoint::worldSize).filter(w -> simulated.point(w).isPresent()).toList();
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
        String spread = Double.isNaN(m.realSpread()) ? ""
            : String.format(Locale.ROOT, " ±%.0f%%", 100 * m.realSpread());
        b.append(String.format(Locale.ROOT, " | %s%s / %s / %+.1f %%%s", number(m.real()), spread,
            number(m.simulated()), m.differencePercent(), m.withinTarget() ? "" : " !"));
      }
      b.append(" |\n");
    }
    b.append(String.format(Locale.ROOT, "diff = (simulated - real) / real; targets: throughput and p50s within %.0f %%, "
        + "p99s within %.0f %% (\"!\" marks a miss)%n", 100 * P50_TARGET, 100 * P99_TARGET));
    if (realRuns > 1) {
      b.append(String.format(Locale.ROOT, "real = the median of %d real runs, ± half their range (in percent of the "
          + "median): the real side's own spread%n", realRuns));
    }
    b.append("\nWhere TTFT went, medians real / sim (the agents' own account: queue before the first step, prefill to "
        + "the first token, the rest messages), and the real releases against the simulated schedule:\n\n");
    b.append("| world size | queue p50 ms | prefill p50 ms | messages p50 ms | release offset p50 / max ms |\n");
    b.append("| --- | --- | --- | --- | --- |\n");
    for (Split p : splits) {
      b.append(String.format(Locale.ROOT, "| %d | %s / %s | %s / %s | %s / %s | %s / %s |%n", p.worldSize(),
          number(p.real().queueMs()), number(p.simulated().queueMs()), number(p.real().prefillMs()),
          number(p.simulated().prefillMs()), number(p.real().messagesMs()), number(p.simulated().messagesMs()),
          number(p.releaseOffsetP50Ms()), number(p.releaseOffsetMaxMs())));
    }
    return b.toString();
  }

  private static String number(double v) {
    if (Double.isNaN(v)) return "–";
    return String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
  }
}
