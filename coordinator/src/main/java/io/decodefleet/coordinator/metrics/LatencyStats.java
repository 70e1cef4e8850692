package io.decodefleet.coordinator.metrics;

import java.util.Arrays;

/**
 * Summary of one latency distribution. All values are in the unit of the samples (milliseconds
 * everywhere in this package).
 *
 * <p>An empty sample set gives {@code count == 0} and every statistic {@code 0.0}, not NaN: that is
 * what {@code vllm bench serve} reports ({@code np.mean(ttfts or 0)}), and it keeps the JSON and the
 * console table free of NaN.
 *
 * @param mean arithmetic mean
 * @param median 50th percentile
 * @param p90 90th percentile
 * @param p99 99th percentile
 * @param min smallest sample
 * @param max largest sample
 * @param count number of samples
 */
public record LatencyStats(
    double mean, double median, double p90, double p99, double min, double max, int count) {

  /** The statistics of no samples at all; see the class comment for why these are zeros. */
  public static final LatencyStats EMPTY = new LatencyStats(0, 0, 0, 0, 0, 0, 0);

  /**
   * Computes the statistics of {@code values}, which is neither kept nor modified.
   *
   * <p>Percentiles interpolate linearly between the closest ranks, like {@code numpy.percentile}'s
   * default ("linear") method: for values 1..10 the median is 5.5, p90 9.1 and p99 9.91.
   *
   * @throws IllegalArgumentException if a value is NaN (it has no place in a sorted order)
   */
  public static LatencyStats of(double[] values) {
    if (values.length == 0) {
      return EMPTY;
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    double sum = 0;
    for (double v : sorted) {
      if (Double.isNaN(v)) {
        throw new IllegalArgumentException("latency sample is NaN");
      }
      sum += v;
    }
    return new LatencyStats(
        sum / sorted.length,
        percentile(sorted, 50),
        percentile(sorted, 90),
        percentile(sorted, 99),
        sorted[0],
        sorted[sorted.length - 1],
        sorted.length);
  }

  /**
   * The {@code p}-th percentile (0..100) of ascending, non-empty {@code sorted}, by numpy's
   * "linear" method: rank {@code p/100 * (n-1)} between the two closest samples. The two-sided
   * interpolation mirrors numpy's {@code _lerp} so results match it to the last bit where possible.
   */
  static double percentile(double[] sorted, double p) {
    if (p < 0 || p > 100) {
      throw new IllegalArgumentException("percentile out of range: " + p);
    }
    double rank = p / 100.0 * (sorted.length - 1);
    int lower = (int) Math.floor(rank);
    int upper = Math.min(lower + 1, sorted.length - 1);
    double t = rank - lower;
    double a = sorted[lower];
    double b = sorted[upper];
    double diff = b - a;
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
  }
}
