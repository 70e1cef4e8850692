package io.decodefleet.coordinator.fleet;

import io.decodefleet.coordinator.placement.PlacementPolicy;

/**
 * Where a new sequence is prefilled before its KV moves to a decode agent: the disaggregated
 * layout's KV group. {@link SequencePlacement} asks it first and places data-parallel when it
 * gives no agent.
 */
public interface PrefillStage {

  /**
   * The prefill agent for a new (or re-placed) sequence, chosen by {@code policy}; null when the
   * fleet places it data-parallel instead (the group is not intact, or no decode agent could hold it).
   */
  FleetAgent prefillAgent(InFlightSequence seq, PlacementPolicy policy);
}
