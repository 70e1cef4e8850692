package io.decodefleet.coordinator.fleet;

import java.util.Map;

/**
 * One agent; counters are cumulative since it was loaded.
 *
 * @param loadReport what the agent's backend said of its load (GEMM dispatch, graphs, ...); empty if nothing
 * @param prefixQueriedTokens prompt tokens it looked up in its prefix cache
 * @param prefixHitTokens of those, the tokens it found cached
 * @param prefixCachedBlocks blocks its prefix cache holds now (as its reports told)
 */
public record AgentSnapshot(String agentId, String nodeAddress, String device, String backend, boolean loaded,
    boolean alive, int kvBlocks, int freeKvBlocks, int blockSize, int running, int waiting, int inFlight, long steps,
    long stepNanos, long scheduledTokens, long preemptions, Map<Integer, StepStats> stepsByBatch,
    Map<String, Long> stepsByPath, StepTimes times, String loadReport, long prefixQueriedTokens, long prefixHitTokens,
    int prefixCachedBlocks) {

  /** A snapshot of an agent without prefix caching. */
  public AgentSnapshot(String agentId, String nodeAddress, String device, String backend, boolean loaded,
      boolean alive, int kvBlocks, int freeKvBlocks, int blockSize, int running, int waiting, int inFlight, long steps,
      long stepNanos, long scheduledTokens, long preemptions, Map<Integer, StepStats> stepsByBatch,
      Map<String, Long> stepsByPath, StepTimes times, String loadReport) {
    this(agentId, nodeAddress, device, backend, loaded, alive, kvBlocks, freeKvBlocks, blockSize, running, waiting,
        inFlight, steps, stepNanos, scheduledTokens, preemptions, stepsByBatch, stepsByPath, times, loadReport, 0, 0, 0);
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
    return new AgentSnapshot(info.agentId(), info.nodeAddress(), info.device(), info.backend(), false, true, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, Map.of(), Map.of(), StepTimes.NONE, "");
  }

  /** Steps of one batch bucket: how many and their total time. */
  public record StepStats(long steps, long nanos) {}
}
