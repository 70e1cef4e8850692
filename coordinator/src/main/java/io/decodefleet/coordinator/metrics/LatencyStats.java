package io.decodefleet.coordinator.metrics;

import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Summary of one latency distribution. All values are in the unit of the samples (milliseconds
 * everywhere in this package).
 *
 * <p>An empty sample set gives {@code count == 0} and every statistic {@code 0.0}, not NaN: that is
 * what {@code vllm bench serve} reports ({@code np.mean(ttfts or 0)}), and it keeps the JSON and the
 * console table free of NaN.
 *
 * <p>The median, P90 and P99 are always computed (the charts, the sweep summary and expectations
 * read them); {@code percentiles} holds those a report asks for ({@link PercentileSpec}).
 *
 * @param mean arithmetic mean
 * @param std population standard deviation ({@code numpy.std}, as vLLM's "std_*_ms")
 * @param median 50th percentile
 * @param p90 90th percentile
 * @param p99 99th percentile
 * @param min smallest sample
 * @param max largest sample
 * @param count number of samples
 * @param percentiles percentile (0..100) to its value, ascending
 */
public record LatencyStats(double mean, double std, double median, double p90, double p99, double min, double max,
    int count, SortedMap<Double, Double> percentiles) {

  /** The percentiles computed when none are asked for: {@link PercentileSpec#DEFAULT}'s. */
  static final List<Double> DEFAULT_PERCENTILES = PercentileSpec.DEFAULT.percentiles();

  /** The statistics of no samples at all; see the class comment for why these are zeros. */
  public static final LatencyStats EMPTY = new LatencyStats(0, 0, 0, 0, 0, 0, 0);

  public LatencyStats {
    percentiles = Collections.unmodifiableSortedMap(new TreeMap<>(percentiles));
  }

  /**
   * Statistics with a standard deviation of 0 and the default percentiles (90 and 99) taken from
   * {@code p90} and {@code p99}: those of one repeated value, or of none.
   */
  public LatencyStats(double mean, double median, double p90, double p99, double min, double max, int count) {
    this(mean, 0, median, p90, p99, min, max, count, new TreeMap<>(java.util.Map.of(90.0, p90, 99.0, p99)));
  }

  /**
   * The value at percentile {@code p}, one of {@link #percentiles()}' keys.
   *
   * @throws IllegalArgumentException if {@code p} was not computed
   */
  public double percentile(double p) {
    Double v = percentiles.get(p);
    if (v == null) throw new IllegalArgumentException("percentile " + p + " was not computed");
    return v;
  }

  /**
   * Computes the statistics of {@code values}, which is neither kept nor modified.
   *
   * <p>Percentiles interpolate linearly between the closest ranks, like {@code numpy.percentile}'s
   * default ("linear") method: for values 1..10 the median is 5.5, p90 9.1 and p99 9.91.
   *
   * @throws IllegalArgumentException if a value is NaN (it has no place in a sorted order)
   */
  public static LatencyStats of(double[] values) {
    return of(values, DEFAULT_PERCENTILES);
  }

  /**
   * As {@link #of(double[])}, with {@code percentiles} (each in 0..100) computed into {@link
   * #percentiles()}. No samples give zeros at every percentile.
   */
  public static LatencyStats of(double[] values, Collection<Double> percentiles) {
    SortedMap<Double, Double> at = new TreeMap<>();
    if (values.length == 0) {
      for (double p : percentiles) at.put(p, 0.0);
      return new LatencyStats(0, 0, 0, 0, 0, 0, 0, 0, at);
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
    double mean = sum / sorted.length;
    double squares = 0;
    for (double v : sorted) {
      squares += (v - mean) * (v - mean);
    }
    for (double p : percentiles) at.put(p, percentile(sorted, p));
    return new LatencyStats(
        mean,
        Math.sqrt(squares / sorted.length),
        percentile(sorted, 50),
        percentile(sorted, 90),
        percentile(sorted, 99),
        sorted[0],
        sorted[sorted.length - 1],
        sorted.length,
        at);
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
