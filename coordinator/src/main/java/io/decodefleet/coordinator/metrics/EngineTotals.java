package io.decodefleet.coordinator.metrics;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Engine counters of one run over its agents (the difference between the cluster's snapshots at its
 * end and start): report.json's "engine".
 *
 * @param meanStepMs mean wall time of a reported step, ms (0 without steps)
 * @param stepTimeByBatch per decode batch bucket that ran, ascending
 * @param stepsByPath steps per decode path ("eager", "graph", ...), by name; paths with no step left out
 * @param meanHostUsPerStep host time per step, µs; null where no agent reported it
 * @param meanGpuUsPerStep device time per step, µs; null where the backend did not measure it
 * @param meanGpuIdleGapUs device idle gap between steps, µs; null where not measured
 * @param kvMigrations sequences moved off drained agents with their KV
 * @param reprefillMigrations sequences moved and re-prefilled
 * @param kvTransfers the KV transfers of the run, or null where the fleet has no KV group
 * @param prefixQueriedTokens prompt tokens the agents looked up in their prefix caches (0 where caching is off)
 * @param prefixHitTokens of those, the tokens found cached (their prefill skipped)
 * @param profile the run's profiled decode steps by kernel family; null when none was profiled
 * @param prefixDeferredAdmissions sequences admitted after being held back for a prefix another sequence
 *     was prefilling, so that they found it cached (in-batch prefix deferral)
 * @param expertLoad tokens each expert of each layer took over the run's steps, all agents summed (a mixture of
 *     experts); null for a dense model
 */
public record EngineTotals(long reportedSteps, long scheduledTokens, double meanStepMs, long preemptions,
    List<BatchBucketSteps> stepTimeByBatch, Map<String, Long> stepsByPath, Double meanHostUsPerStep,
    Double meanGpuUsPerStep, Double meanGpuIdleGapUs, int agentsLost, long migrations, long kvMigrations,
    long reprefillMigrations, KvTransferSummary kvTransfers, long prefixQueriedTokens, long prefixHitTokens,
    StepProfileSummary profile, long prefixDeferredAdmissions, io.decodefleet.agent.engine.ExpertLoad expertLoad) {

  /** Totals of a dense model's run. */
  public EngineTotals(long reportedSteps, long scheduledTokens, double meanStepMs, long preemptions,
      List<BatchBucketSteps> stepTimeByBatch, Map<String, Long> stepsByPath, Double meanHostUsPerStep,
      Double meanGpuUsPerStep, Double meanGpuIdleGapUs, int agentsLost, long migrations, long kvMigrations,
      long reprefillMigrations, KvTransferSummary kvTransfers, long prefixQueriedTokens, long prefixHitTokens,
      StepProfileSummary profile, long prefixDeferredAdmissions) {
    this(reportedSteps, scheduledTokens, meanStepMs, preemptions, stepTimeByBatch, stepsByPath, meanHostUsPerStep,
        meanGpuUsPerStep, meanGpuIdleGapUs, agentsLost, migrations, kvMigrations, reprefillMigrations, kvTransfers,
        prefixQueriedTokens, prefixHitTokens, profile, prefixDeferredAdmissions, null);
  }

  /** Totals of a run that held no sequence back for a prefix. */
  public EngineTotals(long reportedSteps, long scheduledTokens, double meanStepMs, long preemptions,
      List<BatchBucketSteps> stepTimeByBatch, Map<String, Long> stepsByPath, Double meanHostUsPerStep,
      Double meanGpuUsPerStep, Double meanGpuIdleGapUs, int agentsLost, long migrations, long kvMigrations,
      long reprefillMigrations, KvTransferSummary kvTransfers, long prefixQueriedTokens, long prefixHitTokens,
      StepProfileSummary profile) {
    this(reportedSteps, scheduledTokens, meanStepMs, preemptions, stepTimeByBatch, stepsByPath, meanHostUsPerStep,
        meanGpuUsPerStep, meanGpuIdleGapUs, agentsLost, migrations, kvMigrations, reprefillMigrations, kvTransfers,
        prefixQueriedTokens, prefixHitTokens, profile, 0);
  }

  /** Totals of a run that profiled no step. */
  public EngineTotals(long reportedSteps, long scheduledTokens, double meanStepMs, long preemptions,
      List<BatchBucketSteps> stepTimeByBatch, Map<String, Long> stepsByPath, Double meanHostUsPerStep,
      Double meanGpuUsPerStep, Double meanGpuIdleGapUs, int agentsLost, long migrations, long kvMigrations,
      long reprefillMigrations, KvTransferSummary kvTransfers, long prefixQueriedTokens, long prefixHitTokens) {
    this(reportedSteps, scheduledTokens, meanStepMs, preemptions, stepTimeByBatch, stepsByPath, meanHostUsPerStep,
        meanGpuUsPerStep, meanGpuIdleGapUs, agentsLost, migrations, kvMigrations, reprefillMigrations, kvTransfers,
        prefixQueriedTokens, prefixHitTokens, null);
  }

  /** Totals of a run without prefix caching. */
  public EngineTotals(long reportedSteps, long scheduledTokens, double meanStepMs, long preemptions,
      List<BatchBucketSteps> stepTimeByBatch, Map<String, Long> stepsByPath, Double meanHostUsPerStep,
      Double meanGpuUsPerStep, Double meanGpuIdleGapUs, int agentsLost, long migrations, long kvMigrations,
      long reprefillMigrations, KvTransferSummary kvTransfers) {
    this(reportedSteps, scheduledTokens, meanStepMs, preemptions, stepTimeByBatch, stepsByPath, meanHostUsPerStep,
        meanGpuUsPerStep, meanGpuIdleGapUs, agentsLost, migrations, kvMigrations, reprefillMigrations, kvTransfers, 0,
        0);
  }

  /** Share of looked-up prompt tokens found in the prefix caches; NaN where none were looked up. */
  public double prefixHitRate() {
    return prefixQueriedTokens == 0 ? Double.NaN : (double) prefixHitTokens / prefixQueriedTokens;
  }

  public EngineTotals {
    stepTimeByBatch = List.copyOf(stepTimeByBatch);
    stepsByPath = java.util.Collections.unmodifiableMap(new TreeMap<>(stepsByPath));
  }

  /** Steps of one decode batch bucket and their mean wall time, ms. */
  public record BatchBucketSteps(int batchBucket, long steps, double meanStepMs) {}
}
