package io.decodefleet.coordinator.run;

import io.decodefleet.agent.engine.ExpertLoad;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.kv.KvTransferHistory;
import io.decodefleet.coordinator.metrics.EngineTotals;
import io.decodefleet.coordinator.metrics.KvTransferSummary;
import io.decodefleet.coordinator.metrics.StepProfileSummary;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's engine totals from two snapshots of the cluster: what its agents counted (steps, step time
 * by batch bucket and path, preemptions, prefix-cache lookups and deferred admissions, expert load, profiled steps) and what the
 * coordinator counted (agents lost, migrations, KV transfers) between its start and its end. The
 * in-process benchmark and the fleet simulation both report through it.
 */
public final class RunTotals {
  private RunTotals() {}

  /**
   * Engine counters of a run on {@code runAgents}: the difference between the cluster's snapshots at
   * its end and at its start.
   */
  public static EngineTotals engine(ClusterSnapshot atStart, ClusterSnapshot atEnd, List<String> runAgents) {
    Map<String, AgentSnapshot> before = new HashMap<>();
    for (AgentSnapshot a : atStart.agents()) before.put(a.agentId(), a);
    long steps = 0;
    long stepNanos = 0;
    long scheduled = 0;
    long preemptions = 0;
    long prefixQueried = 0;
    long prefixHits = 0;
    long prefixDeferred = 0;
    java.util.TreeMap<Integer, long[]> byBatch = new java.util.TreeMap<>();
    java.util.TreeMap<String, Long> byPath = new java.util.TreeMap<>();
    double[] t = new double[6]; // steps, host ns, gpu steps, gpu µs, gap steps, gap µs
    AgentSnapshot.ProfileTotals profiled = AgentSnapshot.ProfileTotals.NONE;
    ExpertLoad experts = null;
    for (AgentSnapshot a : inScope(atEnd, runAgents)) {
      AgentSnapshot b = before.get(a.agentId());
      if (a.expertLoad() != null) {
        ExpertLoad gained = b == null || b.expertLoad() == null ? a.expertLoad() : a.expertLoad().minus(b.expertLoad());
        experts = experts == null ? gained : experts.plus(gained);
      }
      AgentSnapshot.ProfileTotals gained = a.profile().minus(b == null ? AgentSnapshot.ProfileTotals.NONE : b.profile());
      profiled = profiled.plus(gained);
      AgentSnapshot.StepTimes ta = a.times();
      AgentSnapshot.StepTimes tb = b == null ? AgentSnapshot.StepTimes.NONE : b.times();
      t[0] += ta.steps() - tb.steps();
      t[1] += ta.hostNanos() - tb.hostNanos();
      t[2] += ta.gpuSteps() - tb.gpuSteps();
      t[3] += ta.gpuMicros() - tb.gpuMicros();
      t[4] += ta.gapSteps() - tb.gapSteps();
      t[5] += ta.idleGapMicros() - tb.idleGapMicros();
      a.stepsByBatch().forEach((bucket, s) -> {
        AgentSnapshot.StepStats s0 = b == null ? null : b.stepsByBatch().get(bucket);
        long[] acc = byBatch.computeIfAbsent(bucket, k -> new long[2]);
        acc[0] += s.steps() - (s0 == null ? 0 : s0.steps());
        acc[1] += s.nanos() - (s0 == null ? 0 : s0.nanos());
      });
      a.stepsByPath().forEach((path, n) -> byPath.merge(path, n - (b == null ? 0 : b.stepsByPath().getOrDefault(path,
          0L)), Long::sum));
      steps += a.steps() - (b == null ? 0 : b.steps());
      stepNanos += a.stepNanos() - (b == null ? 0 : b.stepNanos());
      scheduled += a.scheduledTokens() - (b == null ? 0 : b.scheduledTokens());
      preemptions += a.preemptions() - (b == null ? 0 : b.preemptions());
      prefixQueried += a.prefixQueriedTokens() - (b == null ? 0 : b.prefixQueriedTokens());
      prefixHits += a.prefixHitTokens() - (b == null ? 0 : b.prefixHitTokens());
      prefixDeferred += a.prefixDeferredAdmissions() - (b == null ? 0 : b.prefixDeferredAdmissions());
    }
    List<EngineTotals.BatchBucketSteps> buckets = new ArrayList<>();
    byBatch.forEach((bucket, acc) -> {
      if (acc[0] != 0) buckets.add(new EngineTotals.BatchBucketSteps(bucket, acc[0], acc[1] / 1e6 / acc[0]));
    });
    byPath.values().removeIf(n -> n == 0);
    KvTransferSummary kvTransfers = null;
    if (atEnd.kvTransfers() != null) {
      // Hand-offs logged since this run's start (a fleet reloaded for the run starts from 0).
      KvTransferHistory startLog = atStart.kvTransfers();
      long from = startLog != null && startLog.layout().equals(atEnd.kvTransfers().layout()) ? startLog.total() : 0;
      kvTransfers = atEnd.kvTransfers().summary(from);
    }
    return new EngineTotals(steps, scheduled, steps == 0 ? 0.0 : stepNanos / 1e6 / steps, preemptions, buckets, byPath,
        t[0] == 0 ? null : t[1] / 1e3 / t[0], t[2] == 0 ? null : t[3] / t[2], t[4] == 0 ? null : t[5] / t[4],
        atEnd.agentsLost() - atStart.agentsLost(), atEnd.migrations() - atStart.migrations(),
        atEnd.kvMigrations() - atStart.kvMigrations(),
        atEnd.migrations() - atStart.migrations() - atEnd.kvMigrations() + atStart.kvMigrations(), kvTransfers,
        prefixQueried, prefixHits, StepProfileSummary.of(inScope(atEnd, runAgents).stream().map(AgentSnapshot::backend)
            .findFirst().orElse(""), profiled.steps(), profiled.sequences(), profiled.stepMicros(),
            profiled.familyMicros(), profiled.floorMicros()), prefixDeferred, experts);
  }

  /** The run's agents as they are in {@code state}. */
  private static List<AgentSnapshot> inScope(ClusterSnapshot state, List<String> runAgents) {
    return state.agents().stream().filter(a -> runAgents.contains(a.agentId())).toList();
  }
}
