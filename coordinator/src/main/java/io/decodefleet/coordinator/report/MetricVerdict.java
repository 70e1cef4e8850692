package io.decodefleet.coordinator.report;

import io.decodefleet.coordinator.report.Expectation.Direction;

/**
 * How one expected metric of one sweep point came out.
 *
 * @param worldSize the sweep point's world size
 * @param metric the report.json key
 * @param expected the expected value
 * @param actual the report's value; NaN when {@code verdict} is MISSING
 * @param direction which way is better
 * @param tolerance the relative tolerance applied (0.25 = ±25 %)
 * @param verdict the outcome
 */
public record MetricVerdict(
    int worldSize,
    String metric,
    double expected,
    double actual,
    Direction direction,
    double tolerance,
    Verdict verdict) {

  /** The outcome of comparing a metric with its expectation. */
  public enum Verdict {
    /** Better than expected by more than the tolerance: the expectation may be raised. */
    IMPROVED,
    /** Within the tolerance. */
    MET,
    /** Worse than expected by more than the tolerance. */
    REGRESSED,
    /** The report has no such sweep point, or the point has no value for the metric. */
    MISSING
  }

  /** actual / expected − 1: +0.10 is 10 % above the expectation; NaN when missing. */
  public double relativeChange() {
    return actual / expected - 1;
  }
}
