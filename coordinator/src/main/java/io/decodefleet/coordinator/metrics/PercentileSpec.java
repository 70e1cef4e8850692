package io.decodefleet.coordinator.metrics;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Which latency metrics get percentiles and at which percentiles, as {@code vllm bench serve
 * --percentile-metrics ttft,tpot,itl --metric-percentiles 99} takes them. Every metric always has
 * its mean, standard deviation and median; the metrics named here also get "P{p}" rows and
 * "p{p}_{metric}_ms" keys, one per percentile.
 *
 * <p>The default differs from vLLM's ({@code ttft,tpot,itl} and {@code 99}): DecodeFleet has
 * always reported P90 and P99 of all four metrics, and its charts, sweep summary and expectations
 * files read them, so its default stays {@code ttft,tpot,itl,e2el} and {@code 90,99}.
 *
 * @param metrics metric names in {@link #METRICS}' order, no repeats, at least one
 * @param percentiles ascending, distinct, each in [0, 100], at least one
 */
public record PercentileSpec(List<String> metrics, List<Double> percentiles) {

  /** The metrics a percentile may be asked of, in vLLM's spelling and report order. */
  public static final List<String> METRICS = List.of("ttft", "tpot", "itl", "e2el");

  /** DecodeFleet's default: P90 and P99 of all four metrics. */
  public static final PercentileSpec DEFAULT = new PercentileSpec(METRICS, List.of(90.0, 99.0));

  public PercentileSpec {
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(percentiles, "percentiles");
    if (metrics.isEmpty()) throw new IllegalArgumentException("no metric given");
    if (percentiles.isEmpty()) throw new IllegalArgumentException("no percentile given");
    List<String> ordered = new ArrayList<>();
    for (String known : METRICS) {
      if (metrics.contains(known)) ordered.add(known);
    }
    for (String m : metrics) {
      if (!METRICS.contains(m)) throw new IllegalArgumentException("unknown metric \"" + m + "\"; known: " + known());
    }
    if (ordered.size() != metrics.size()) throw new IllegalArgumentException("a metric is given twice: " + metrics);
    TreeSet<Double> sorted = new TreeSet<>();
    for (Double p : percentiles) {
      if (p == null || !(p >= 0 && p <= 100)) {
        throw new IllegalArgumentException("percentile " + p + " is not in [0, 100]");
      }
      if (!sorted.add(p)) throw new IllegalArgumentException("percentile " + word(p) + " is given twice");
    }
    metrics = List.copyOf(ordered);
    percentiles = List.copyOf(sorted);
  }

  /**
   * The spec of the two flags' values as given ({@code "ttft,e2el"}, {@code "50,90,99.9"}); null
   * keeps that half of {@link #DEFAULT}.
   *
   * @throws IllegalArgumentException one line naming the flag and the bad item
   */
  public static PercentileSpec parse(String metricList, String percentileList) {
    List<String> metrics = DEFAULT.metrics;
    if (metricList != null) {
      metrics = new ArrayList<>();
      for (String item : items(metricList, "--percentile-metrics")) {
        String m = item.toLowerCase(Locale.ROOT);
        if (!METRICS.contains(m)) {
          throw new IllegalArgumentException("--percentile-metrics: unknown metric \"" + item + "\"; known: " + known());
        }
        if (metrics.contains(m)) throw new IllegalArgumentException("--percentile-metrics lists " + m + " twice");
        metrics.add(m);
      }
    }
    List<Double> percentiles = DEFAULT.percentiles;
    if (percentileList != null) {
      percentiles = new ArrayList<>();
      for (String item : items(percentileList, "--metric-percentiles")) {
        double p;
        try {
          p = Double.parseDouble(item);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("--metric-percentiles: '" + item + "' is not a number");
        }
        if (!(p >= 0 && p <= 100)) {
          throw new IllegalArgumentException("--metric-percentiles: " + item + " is not in [0, 100]");
        }
        if (percentiles.contains(p)) {
          throw new IllegalArgumentException("--metric-percentiles lists " + word(p) + " twice");
        }
        percentiles.add(p);
      }
    }
    return new PercentileSpec(metrics, percentiles);
  }

  /** Whether {@code metric} gets percentile rows and keys. */
  public boolean covers(String metric) {
    return metrics.contains(metric);
  }

  /**
   * A percentile as vLLM names it in its keys and rows: "99" for 99.0, "99.9" for 99.9 (Python's
   * {@code str(int(p)) if int(p) == p else str(p)}).
   */
  public static String word(double p) {
    if (p == Math.rint(p)) return Long.toString((long) p);
    return BigDecimal.valueOf(p).stripTrailingZeros().toPlainString();
  }

  private static List<String> items(String list, String flag) {
    List<String> out = new ArrayList<>();
    for (String item : list.split(",", -1)) {
      String t = item.trim();
      if (t.isEmpty()) throw new IllegalArgumentException(flag + ": empty item in '" + list + "'");
      out.add(t);
    }
    return out;
  }

  private static String known() {
    return String.join(", ", METRICS);
  }
}
