package io.decodefleet.coordinator.run;

import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.kv.KvTransferHistory;
import java.util.Comparator;
import java.util.List;

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
public record ClusterSnapshot(String model, int worldSize, List<AgentSnapshot> agents, int agentsLost, long migrations,
    KvTransferHistory kvTransfers, long kvMigrations) {

  /**
   * {@code base} on this fleet: with the KV pool of its largest live loaded agent, which a sequence
   * must fit to run anywhere; {@code base} itself while no agent is loaded.
   */
  public LengthLimit lengthLimit(LengthLimit base) {
    return agents.stream().filter(a -> a.loaded() && a.alive() && a.kvBlocks() > 0)
        .max(Comparator.comparingLong(a -> (long) a.kvBlocks() * a.blockSize()))
        .map(a -> base.withKvPool(a.kvBlocks(), a.blockSize())).orElse(base);
  }
}
