package io.decodefleet.coordinator.run;

import io.decodefleet.coordinator.metrics.AgentDescription;
import io.decodefleet.coordinator.metrics.BenchmarkResult;
import io.decodefleet.coordinator.metrics.EngineTotals;
import io.decodefleet.coordinator.metrics.RequestRecord;
import io.decodefleet.coordinator.metrics.VerificationSummary;
import java.util.List;
import java.util.Map;

/**
 * What a benchmark run ends with.
 *
 * @param error why the run could not run at all (no agents, model failed to load), else null
 * @param outputTokens every completed request's output token ids, by request id
 * @param agents one line per agent: id, device, backend, KV capacity
 * @param engine engine-level totals (steps, preemptions, mean step time, ...); null when the run did not run
 * @param verification the recompute check totals, or null when it was not asked for
 */
public record RunOutcome(String error, BenchmarkResult result, List<RequestRecord> requests,
    Map<Long, int[]> outputTokens, List<AgentDescription> agents, EngineTotals engine,
    VerificationSummary verification) {

  public static RunOutcome failed(String error) {
    return new RunOutcome(error, null, List.of(), Map.of(), List.of(), null, null);
  }

  /** True when the run ran, every request completed and, if asked, every recompute check passed. */
  public boolean succeeded() {
    if (error != null || result == null || result.failed() > 0) return false;
    return verification == null || verification.passed();
  }
}
