package io.decodefleet.coordinator.kv;

import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.fleet.FleetAgent;

/**
 * A fleet's KV group: the agents that can move a sequence's KV to one another, as KV transfers
 * (disaggregated hand-offs, drain migrations) use it. Rank in the group = fleet index.
 */
interface KvGroup {
  /** Whether transfers run: the group formed and has not broken. */
  boolean intact();

  /** Whether {@code agent} may receive a migrated sequence (its rank in the group is its fleet index). */
  boolean takesMigrations(FleetAgent agent);

  /** Handles a group report (forming, hand-offs); false when {@code report} is not its. */
  boolean onReport(AgentReport report, FleetAgent agent);

  /** An agent of the fleet left the cluster. */
  void agentLost(FleetAgent agent);

  /** The group is unusable from now on: every member aborts it. */
  void breakGroup(String reason);

  /** Where the group's transfers are logged. */
  KvTransferLog log();

  /** The group and its transfers so far, for cluster snapshots. */
  KvTransferHistory transfers();
}
