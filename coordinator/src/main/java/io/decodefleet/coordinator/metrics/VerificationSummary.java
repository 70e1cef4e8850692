package io.decodefleet.coordinator.metrics;

import java.util.List;

/**
 * The totals of a run's recompute checks (each checked sequence's logits against a full recompute).
 *
 * @param passed at least one sequence was checked and none failed
 * @param maxRelError the largest relative logit error seen
 * @param tolerance the largest tolerance an agent applied
 * @param failureDetails the first failures (at most 10), "request ID: detail"
 */
public record VerificationSummary(boolean passed, int sequencesChecked, int failures, double maxRelError,
    double tolerance, List<String> failureDetails) {

  public VerificationSummary {
    failureDetails = List.copyOf(failureDetails);
  }
}
