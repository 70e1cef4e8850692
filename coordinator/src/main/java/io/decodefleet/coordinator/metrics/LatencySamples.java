package io.decodefleet.coordinator.metrics;

import io.decodefleet.coordinator.metrics.RequestTrace.DoubleList;
import java.util.Collection;
import java.util.List;

/**
 * The latency samples of a run, pooled from its requests by the one rule of {@code vllm bench
 * serve}: completed requests only; TPOT only of requests with more than one token; ITL every gap of
 * every completed request. Milliseconds.
 */
final class LatencySamples {
  final DoubleList ttft = new DoubleList();
  final DoubleList tpot = new DoubleList();
  final DoubleList itl = new DoubleList();
  final DoubleList e2e = new DoubleList();

  private LatencySamples() {}

  static LatencySamples of(List<RequestRecord> requests) {
    LatencySamples s = new LatencySamples();
    for (RequestRecord r : requests) {
      if (!r.completed()) continue;
      s.ttft.add(r.ttftMs());
      s.e2e.add(r.e2eMs());
      if (r.outputTokens() > 1) s.tpot.add(r.tpotMs());
      for (double gap : r.itlMs()) s.itl.add(gap);
    }
    return s;
  }

  /** {ttft, tpot, itl, e2e} with {@code percentiles} computed. */
  LatencyStats[] stats(Collection<Double> percentiles) {
    return new LatencyStats[] {LatencyStats.of(ttft.toArray(), percentiles),
        LatencyStats.of(tpot.toArray(), percentiles), LatencyStats.of(itl.toArray(), percentiles),
        LatencyStats.of(e2e.toArray(), percentiles)};
  }
}
