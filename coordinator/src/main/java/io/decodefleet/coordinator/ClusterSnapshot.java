package io.decodefleet.coordinator;

import java.util.List;
import java.util.Map;

/**
 * The coordinator's view of the cluster at one moment.
 *
 * @param model the loaded model, or null before a fleet is loaded
 * @param worldSize agents the model is loaded on
 * @param kvTransfers the fleet's KV-transfer group and hand-offs (disaggregated layout), else null
 */
public record ClusterSnapshot(String model, int worldSize, List<Agent> agents, int agentsLost, long migrations,
    KvTransfers kvTransfers) {

  /** A data-parallel fleet's view: no KV transfers. */
  public ClusterSnapshot(String model, int worldSize, List<Agent> agents, int agentsLost, long migrations) {
    this(model, worldSize, agents, agentsLost, migrations, null);
  }

  /** One agent; counters are cumulative since it was loaded. */
  public record Agent(String agentId, String nodeAddress, String device, String backend, boolean loaded,
      boolean alive, int kvBlocks, int freeKvBlocks, int blockSize, int running, int waiting, int inFlight, long steps,
      long stepNanos, long scheduledTokens, long preemptions, Map<Integer, StepStats> stepsByBatch,
      Map<String, Long> stepsByPath, StepTimes times) {}

  /**
   * Sums over an agent's reported steps: host time, and the device time and idle gap where the
   * backend measured them (NaN excluded, with their own counts).
   */
  public record StepTimes(long steps, long hostNanos, long gpuSteps, double gpuMicros, long gapSteps,
      double idleGapMicros) {
    public static final StepTimes NONE = new StepTimes(0, 0, 0, 0, 0, 0);
  }

  /** Steps of one batch bucket: how many and their total time. */
  public record StepStats(long steps, long nanos) {}
}
