package io.decodefleet.coordinator;

import io.decodefleet.agent.protocol.AgentReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Engine-level totals of a run, summed from the agents' step reports. */
final class EngineTotals {
  private long steps;
  private long stepNanos;
  private long scheduledTokens;
  private long preemptions;
  private int verified;
  private int verifyFailures;
  private double worstRelError;
  private final List<String> failureDetails = new ArrayList<>();

  void add(AgentReport.StepReport m) {
    steps++;
    stepNanos += m.stepNanos();
    scheduledTokens += m.scheduledTokens();
    preemptions += m.preempted();
  }

  void finished(AgentReport.SequenceFinished f) {
    AgentReport.VerifyResult v = f.verify();
    if (!v.checked()) return;
    verified++;
    if (!Double.isNaN(v.maxRelError())) worstRelError = Math.max(worstRelError, v.maxRelError());
    if (!v.passed()) {
      verifyFailures++;
      if (failureDetails.size() < 10) failureDetails.add("sequence " + f.sequenceId() + ": " + v.detail());
    }
  }

  Map<String, Object> engineSummary() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("reported_steps", steps);
    m.put("scheduled_tokens", scheduledTokens);
    m.put("mean_step_ms", steps == 0 ? 0.0 : stepNanos / 1e6 / steps);
    m.put("preemptions", preemptions);
    return m;
  }

  Map<String, Object> verificationSummary() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("passed", verified > 0 && verifyFailures == 0);
    m.put("sequences_checked", verified);
    m.put("failures", verifyFailures);
    m.put("max_rel_error", worstRelError);
    m.put("tolerance", io.decodefleet.agent.engine.RecomputeVerifier.TOLERANCE);
    m.put("failure_details", List.copyOf(failureDetails));
    return m;
  }
}
