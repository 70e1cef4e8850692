package io.decodefleet.coordinator.fleet;

import io.decodefleet.coordinator.kv.KvTransferHistory;
import java.util.List;
import java.util.Map;

/**
 * The coordinator's view of the cluster at one moment.
 *
 * @param model the loaded model, or null before a fleet is loaded
 * @param worldSize agents the model is loaded on
 * @param migrations sequences moved off agents that were lost or drained, since the coordinator started
 * @param kvTransfers the fleet's KV-transfer group and its transfers (a disaggregated fleet, or a
 *     data-parallel one whose agents share a process and can move KV), else null
 * @param kvMigrations of {@code migrations}, those moved with their KV and decoded from it on
 *     arrival; the rest were re-prefilled
 */
public record ClusterSnapshot(String model, int worldSize, List<Agent> agents, int agentsLost, long migrations,
    KvTransferHistory kvTransfers, long kvMigrations) {

  /** A fleet whose migrations all re-prefilled. */
  public ClusterSnapshot(String model, int worldSize, List<Agent> agents, int agentsLost, long migrations,
      KvTransferHistory kvTransfers) {
    this(model, worldSize, agents, agentsLost, migrations, kvTransfers, 0);
  }

  /** A fleet without KV transfers. */
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
