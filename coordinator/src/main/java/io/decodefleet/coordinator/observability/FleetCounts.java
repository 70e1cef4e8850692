package io.decodefleet.coordinator.observability;

import io.decodefleet.coordinator.fleet.FleetAgent;
import io.decodefleet.coordinator.fleet.SequencePlacement;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The coordinator's fleet at one moment, for {@code /metrics}.
 *
 * @param model the fleet's model; empty when none is loaded
 * @param registered agents registered with the coordinator (joined, loaded or not)
 * @param up the fleet's agents that are alive and loaded, by id
 * @param agentsLost agents that left the cluster while in the fleet, since the coordinator started
 * @param migrations sequences moved off a lost or drained agent, since the coordinator started
 * @param kvMigrations of those, the ones moved with their KV
 * @param replacements sequences taken off their agent and placed anew (a failed or abandoned hand-off)
 */
public record FleetCounts(String model, int registered, Set<String> up, long agentsLost, long migrations,
    long kvMigrations, long replacements) {
  public FleetCounts {
    up = Set.copyOf(up);
  }

  /** The counts of {@code fleet} and of the placement of its sequences. */
  public static FleetCounts of(String model, int registered, List<FleetAgent> fleet, long agentsLost,
      SequencePlacement sequences) {
    Set<String> up = new HashSet<>();
    for (FleetAgent a : fleet) {
      if (a.alive && a.loaded) up.add(a.info.agentId());
    }
    return new FleetCounts(model, registered, up, agentsLost, sequences.migrations(), sequences.kvMigrations(),
        sequences.replacements());
  }
}
