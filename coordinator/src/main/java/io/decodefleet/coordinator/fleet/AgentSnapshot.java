package io.decodefleet.coordinator.fleet;

import java.util.List;
import java.util.Map;

/**
 * One agent; counters are cumulative since it was loaded.
 *
 * @param status up, draining (it takes no new work) or lost (it left the cluster: nothing runs there)
 * @param loadReport what the agent's backend said of its load (GEMM dispatch, graphs, ...); empty if nothing
 * @param prefixQueriedTokens prompt tokens it looked up in its prefix cache
 * @param prefixHitTokens of those, the tokens it found cached
 * @param prefixCachedBlocks blocks its prefix cache holds now (as its reports told)
 * @param profile sums over its profiled steps ({@code --profile-steps})
 * @param prefixDeferredAdmissions sequences it admitted after holding them back for a prefix another
 *     sequence was prefilling (in-batch prefix deferral)
 * @param expertLoad tokens its experts took, summed over its steps (a mixture of experts); null for a dense model
 */
public record AgentSnapshot(String agentId, String nodeAddress, String device, String backend, boolean loaded,
    Status status, int kvBlocks, int freeKvBlocks, int blockSize, int running, int waiting, int inFlight, long steps,
    long stepNanos, long scheduledTokens, long preemptions, Map<Integer, StepStats> stepsByBatch,
    Map<String, Long> stepsByPath, StepTimes times, String loadReport, long prefixQueriedTokens, long prefixHitTokens,
    int prefixCachedBlocks, ProfileTotals profile, long prefixDeferredAdmissions,
    io.decodefleet.agent.engine.ExpertLoad expertLoad) {

  /** A snapshot of an agent of a dense model. */
  public AgentSnapshot(String agentId, String nodeAddress, String device, String backend, boolean loaded,
      Status status, int kvBlocks, int freeKvBlocks, int blockSize, int running, int waiting, int inFlight, long steps,
      long stepNanos, long scheduledTokens, long preemptions, Map<Integer, StepStats> stepsByBatch,
      Map<String, Long> stepsByPath, StepTimes times, String loadReport, long prefixQueriedTokens, long prefixHitTokens,
      int prefixCachedBlocks, ProfileTotals profile, long prefixDeferredAdmissions) {
    this(agentId, nodeAddress, device, backend, loaded, status, kvBlocks, freeKvBlocks, blockSize, running, waiting,
        inFlight, steps, stepNanos, scheduledTokens, preemptions, stepsByBatch, stepsByPath, times, loadReport,
        prefixQueriedTokens, prefixHitTokens, prefixCachedBlocks, profile, prefixDeferredAdmissions, null);
  }

  /** A snapshot of an agent that held no sequence back for a prefix. */
  public AgentSnapshot(String agentId, String nodeAddress, String device, String backend, boolean loaded,
      Status status, int kvBlocks, int freeKvBlocks, int blockSize, int running, int waiting, int inFlight, long steps,
      long stepNanos, long scheduledTokens, long preemptions, Map<Integer, StepStats> stepsByBatch,
      Map<String, Long> stepsByPath, StepTimes times, String loadReport, long prefixQueriedTokens, long prefixHitTokens,
      int prefixCachedBlocks, ProfileTotals profile) {
    this(agentId, nodeAddress, device, backend, loaded, status, kvBlocks, freeKvBlocks, blockSize, running, waiting,
        inFlight, steps, stepNanos, scheduledTokens, preemptions, stepsByBatch, stepsByPath, times, loadReport,
        prefixQueriedTokens, prefixHitTokens, prefixCachedBlocks, profile, 0);
  }

  /** A snapshot of an agent that profiled no step. */
  public AgentSnapshot(String agentId, String nodeAddress, String device, String backend, boolean loaded,
      Status status, int kvBlocks, int freeKvBlocks, int blockSize, int running, int waiting, int inFlight, long steps,
      long stepNanos, long scheduledTokens, long preemptions, Map<Integer, StepStats> stepsByBatch,
      Map<String, Long> stepsByPath, StepTimes times, String loadReport, long prefixQueriedTokens, long prefixHitTokens,
      int prefixCachedBlocks) {
    this(agentId, nodeAddress, device, backend, loaded, status, kvBlocks, freeKvBlocks, blockSize, running, waiting,
        inFlight, steps, stepNanos, scheduledTokens, preemptions, stepsByBatch, stepsByPath, times, loadReport,
        prefixQueriedTokens, prefixHitTokens, prefixCachedBlocks, ProfileTotals.NONE);
  }

  /** A snapshot of an agent without prefix caching. */
  public AgentSnapshot(String agentId, String nodeAddress, String device, String backend, boolean loaded,
      Status status, int kvBlocks, int freeKvBlocks, int blockSize, int running, int waiting, int inFlight, long steps,
      long stepNanos, long scheduledTokens, long preemptions, Map<Integer, StepStats> stepsByBatch,
      Map<String, Long> stepsByPath, StepTimes times, String loadReport) {
    this(agentId, nodeAddress, device, backend, loaded, status, kvBlocks, freeKvBlocks, blockSize, running, waiting,
        inFlight, steps, stepNanos, scheduledTokens, preemptions, stepsByBatch, stepsByPath, times, loadReport, 0, 0, 0);
  }

  /** Where an agent stands in the fleet. */
  public enum Status {
    /** Registered, and in the fleet: placeable. */
    UP,
    /** Drained or draining: it takes no new work; its sequences move elsewhere. */
    DRAINING,
    /** It left the cluster (its node was killed and downed, or left after its drain): nothing runs there. */
    LOST
  }

  /** Whether it is still in the cluster (not lost). */
  public boolean alive() {
    return status != Status.LOST;
  }

  /**
   * Sums over an agent's reported steps: host time, and the device time and idle gap where the
   * backend measured them (NaN excluded, with their own counts).
   */
  public record StepTimes(long steps, long hostNanos, long gpuSteps, double gpuMicros, long gapSteps,
      double idleGapMicros) {
    public static final StepTimes NONE = new StepTimes(0, 0, 0, 0, 0, 0);
  }

  /** An agent that registered but holds no model of the fleet: no capacity, no counters. */
  public static AgentSnapshot unloaded(AgentInfo info) {
    return new AgentSnapshot(info.agentId(), info.nodeAddress(), info.device(), info.backend(), false, Status.UP, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, Map.of(), Map.of(), StepTimes.NONE, "");
  }

  /**
   * Sums over an agent's profiled steps: how many, their sequences, their measured time, and per
   * kernel family (agent.engine.KernelFamily's order) the time and the floor (NaN stays NaN).
   */
  public record ProfileTotals(long steps, long sequences, double stepMicros, List<Double> familyMicros,
      List<Double> floorMicros) {
    public static final ProfileTotals NONE = new ProfileTotals(0, 0, 0, List.of(), List.of());

    public ProfileTotals {
      familyMicros = List.copyOf(familyMicros);
      floorMicros = List.copyOf(floorMicros);
    }

    /** These sums with one more profiled step added. */
    public ProfileTotals plus(io.decodefleet.agent.engine.StepProfile p) {
      return new ProfileTotals(steps + 1, sequences + p.batch(), stepMicros + p.stepMicros(),
          add(familyMicros, p.familyMicros(), 1), add(floorMicros, p.floorMicros(), 1));
    }

    /** These sums and {@code other}'s (another agent's, say). */
    public ProfileTotals plus(ProfileTotals other) {
      return new ProfileTotals(steps + other.steps, sequences + other.sequences, stepMicros + other.stepMicros,
          add(familyMicros, other.familyMicros, 1), add(floorMicros, other.floorMicros, 1));
    }

    /** What these sums gained since {@code before} (the same agent's, earlier). */
    public ProfileTotals minus(ProfileTotals before) {
      return new ProfileTotals(steps - before.steps, sequences - before.sequences, stepMicros - before.stepMicros,
          add(familyMicros, before.familyMicros, -1), add(floorMicros, before.floorMicros, -1));
    }

    private static List<Double> add(List<Double> a, List<Double> b, int sign) {
      if (b.isEmpty()) return a;
      if (a.isEmpty()) return sign > 0 ? b : b.stream().map(v -> -v).toList();
      java.util.ArrayList<Double> out = new java.util.ArrayList<>(a.size());
      for (int i = 0; i < a.size(); i++) out.add(a.get(i) + sign * b.get(i));
      return out;
    }
  }

  /** Steps of one batch bucket: how many and their total time. */
  public record StepStats(long steps, long nanos) {}
}
