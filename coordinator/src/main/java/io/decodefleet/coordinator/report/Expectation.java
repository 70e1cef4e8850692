package io.decodefleet.coordinator.report;

import java.util.Locale;
import java.util.Objects;

/**
 * What one metric of one sweep point is expected to be, read from an expectations file.
 *
 * @param worldSize the sweep point's world size
 * @param metric a flat key of a report.json point ("output_throughput", "p99_ttft_ms", ...)
 * @param expected the expected value, in the metric's unit
 * @param direction which way is better
 * @param tolerance the relative band around {@code expected} that still counts as met (0.25 =
 *     ±25 %); null when the file leaves it out, which means {@link #DEFAULT_TOLERANCE}
 */
public record Expectation(
    int worldSize, String metric, double expected, Direction direction, Double tolerance) {

  /** Tolerance when the file gives none: 25 %. */
  public static final double DEFAULT_TOLERANCE = 0.25;

  /** Which way a metric is better. */
  public enum Direction {
    /** Higher is better: throughput, goodput, scaling efficiency. */
    HIGHER,
    /** Lower is better: latencies. */
    LOWER;

    /** The spelling in expectation files: "higher" or "lower". */
    public String jsonName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public Expectation {
    Objects.requireNonNull(metric, "metric");
    Objects.requireNonNull(direction, "direction");
  }

  /** The tolerance that applies: the file's, else {@link #DEFAULT_TOLERANCE}. */
  public double effectiveTolerance() {
    return tolerance == null ? DEFAULT_TOLERANCE : tolerance;
  }

  /**
   * The verdict for {@code actual} (NaN when the report lacks the point or the metric): with
   * higher-is-better, below {@code expected·(1−tol)} regressed, above {@code expected·(1+tol)}
   * improved, else met; mirrored for lower-is-better. Values on a bound count as met.
   */
  public MetricVerdict judge(double actual) {
    double tol = effectiveTolerance();
    MetricVerdict.Verdict verdict;
    if (!Double.isFinite(actual)) {
      verdict = MetricVerdict.Verdict.MISSING;
    } else {
      boolean aboveBand = actual > expected * (1 + tol);
      boolean belowBand = actual < expected * (1 - tol);
      boolean better = direction == Direction.HIGHER ? aboveBand : belowBand;
      boolean worse = direction == Direction.HIGHER ? belowBand : aboveBand;
      verdict = worse ? MetricVerdict.Verdict.REGRESSED
          : better ? MetricVerdict.Verdict.IMPROVED
          : MetricVerdict.Verdict.MET;
    }
    return new MetricVerdict(worldSize, metric, expected,
        Double.isFinite(actual) ? actual : Double.NaN, direction, tol, verdict);
  }

  /** This expectation with {@code value} as its expected value. */
  Expectation withExpected(double value) {
    return new Expectation(worldSize, metric, value, direction, tolerance);
  }
}
