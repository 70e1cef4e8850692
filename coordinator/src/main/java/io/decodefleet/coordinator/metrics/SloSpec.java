package io.decodefleet.coordinator.metrics;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Service level objectives for goodput, as {@code vllm bench serve --goodput ttft:500 tpot:50}
 * takes them: a limit in milliseconds per request-level metric. A request is "good" when it
 * completed and each given metric is at most its limit (vLLM compares with {@code <=}).
 *
 * <p>Beyond vLLM's three metrics, {@code itl:MS} bounds every gap between a request's consecutive
 * tokens: a request meets it when its largest inter-token gap is at most MS (a stall bound, where
 * TPOT bounds the mean gap).
 *
 * @param limitsMs metric name ({@code ttft}, {@code tpot}, {@code itl} or {@code e2el}) to its limit in ms,
 *     each limit finite and &gt; 0; kept in the order given
 */
public record SloSpec(Map<String, Double> limitsMs) {

  /** Time to first token. */
  public static final String TTFT = "ttft";

  /** Time per output token after the first. */
  public static final String TPOT = "tpot";

  /** Inter-token latency: the request's largest gap between consecutive tokens. */
  public static final String ITL = "itl";

  /** End-to-end latency. */
  public static final String E2EL = "e2el";

  /** The metric names an SLO may name, in vLLM's spelling. */
  public static final List<String> METRICS = List.of(TTFT, TPOT, ITL, E2EL);

  /** No SLOs: goodput is not measured. */
  public static final SloSpec NONE = new SloSpec(Map.of());

  public SloSpec {
    Objects.requireNonNull(limitsMs, "limitsMs");
    Map<String, Double> copy = new LinkedHashMap<>();
    for (Map.Entry<String, Double> limit : limitsMs.entrySet()) {
      String metric = limit.getKey();
      Double ms = limit.getValue();
      if (!METRICS.contains(metric)) {
        throw new IllegalArgumentException(
            "goodput SLO: unknown metric \"" + metric + "\"; known metrics: " + known());
      }
      if (ms == null || !Double.isFinite(ms) || ms <= 0) {
        throw new IllegalArgumentException(
            "goodput SLO " + metric + ": limit must be a number of milliseconds > 0, got " + ms);
      }
      copy.put(metric, ms);
    }
    limitsMs = Collections.unmodifiableMap(copy);
  }

  /**
   * Parses items like {@code "ttft:500"}, {@code "tpot:50"}, {@code "itl:100"}, {@code "e2el:2000"} (metric, colon,
   * milliseconds). Null or an empty list gives {@link #NONE}.
   *
   * @throws IllegalArgumentException one line naming the bad item and the known metrics: for a
   *     missing colon, an unknown metric, a value that is not a number &gt; 0, a metric given twice
   */
  public static SloSpec parse(List<String> items) {
    if (items == null || items.isEmpty()) {
      return NONE;
    }
    Map<String, Double> limits = new LinkedHashMap<>();
    for (String item : items) {
      String text = item == null ? "" : item.trim();
      int colon = text.indexOf(':');
      if (colon < 0) {
        throw bad(text, "expected METRIC:MILLISECONDS");
      }
      String metric = text.substring(0, colon).trim();
      String value = text.substring(colon + 1).trim();
      if (!METRICS.contains(metric)) {
        throw bad(text, "unknown metric \"" + metric + "\"");
      }
      double ms;
      try {
        ms = Double.parseDouble(value);
      } catch (NumberFormatException e) {
        throw bad(text, "\"" + value + "\" is not a number of milliseconds");
      }
      if (!Double.isFinite(ms) || ms <= 0) {
        throw bad(text, "the limit must be > 0 ms");
      }
      if (limits.putIfAbsent(metric, ms) != null) {
        throw bad(text, "metric " + metric + " is given twice");
      }
    }
    return new SloSpec(limits);
  }

  /** Whether no SLO is given. */
  public boolean isEmpty() {
    return limitsMs.isEmpty();
  }

  /**
   * Whether {@code request} counts toward goodput: it completed and meets every SLO. A request with
   * a single output token has no TPOT (NaN) and is taken to meet a TPOT SLO, as vLLM counts its
   * TPOT as 0; it has no inter-token gap either, and meets an ITL SLO likewise.
   */
  public boolean isMetBy(RequestRecord request) {
    if (!request.completed()) {
      return false;
    }
    for (Map.Entry<String, Double> limit : limitsMs.entrySet()) {
      double value = switch (limit.getKey()) {
        case TTFT -> request.ttftMs();
        case TPOT -> Double.isNaN(request.tpotMs()) ? 0.0 : request.tpotMs();
        case ITL -> request.itlMs().stream().mapToDouble(Double::doubleValue).max().orElse(0.0);
        default -> request.e2eMs();
      };
      // NaN fails the comparison: an unmeasurable TTFT or E2E never counts as met.
      if (!(value <= limit.getValue())) {
        return false;
      }
    }
    return true;
  }

  /** How many of {@code requests} meet every SLO ({@link #isMetBy}). */
  public int goodRequests(List<RequestRecord> requests) {
    int good = 0;
    for (RequestRecord request : requests) {
      if (isMetBy(request)) {
        good++;
      }
    }
    return good;
  }

  private static IllegalArgumentException bad(String item, String why) {
    return new IllegalArgumentException(
        "goodput SLO \"" + item + "\": " + why + "; known metrics: " + known());
  }

  private static String known() {
    return String.join(", ", METRICS);
  }
}
