package io.decodefleet.coordinator.kv;

import io.decodefleet.coordinator.fleet.FleetAgent;
import io.decodefleet.coordinator.fleet.InFlightSequence;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.placement.LeastLoaded;
import io.decodefleet.coordinator.placement.PlacementPolicy;
import java.util.List;

/**
 * Which agents of a disaggregated fleet serve a sequence, free of the KV group's messages (the
 * coordinator's {@link DisaggregatedKvGroup} and the fleet simulation both ask it): a prefill agent
 * chosen by the run's placement policy among the placeable prefill agents that can hold its prompt
 * so far and first token, provided some decode agent could ever hold the whole sequence; then, once
 * prefilled, the decode agent with the most projected free KV blocks ({@link LeastLoaded}) that can
 * hold it.
 */
public final class DisaggregatedPlacement {
  private final ParallelLayout.Disaggregated layout;
  private final List<FleetAgent> agents;
  private final PlacementPolicy decodePolicy = new LeastLoaded();

  /** @param agents the fleet, in rank order (FleetAgent.index == rank) */
  public DisaggregatedPlacement(ParallelLayout.Disaggregated layout, List<FleetAgent> agents) {
    this.layout = layout;
    this.agents = List.copyOf(agents);
  }

  /** The prefill agent for a new (or re-placed) sequence, or null when no pair of agents can serve it. */
  public FleetAgent prefillAgent(InFlightSequence seq, PlacementPolicy policy) {
    if (decodeAgent(seq.totalTokens()) == null) return null;
    int tokens = seq.prefillTokens();
    List<FleetAgent> candidates = agents.stream()
        .filter(a -> layout.prefills(a.index) && a.placeable && a.canHold(tokens)).toList();
    if (candidates.isEmpty()) return null;
    return candidates.get(policy.choose(candidates.stream().map(FleetAgent::load).toList(), tokens));
  }

  /** The decode agent for a prefilled sequence of {@code tokens} at its longest, or null when none can hold it. */
  public FleetAgent decodeAgent(int tokens) {
    List<FleetAgent> candidates = agents.stream()
        .filter(a -> !layout.prefills(a.index) && a.placeable && a.canHold(tokens)).toList();
    if (candidates.isEmpty()) return null;
    return candidates.get(decodePolicy.choose(candidates.stream().map(FleetAgent::load).toList(), tokens));
  }
}
