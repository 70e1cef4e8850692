package io.decodefleet.coordinator.placement;

import java.util.List;

/** Agents in turn, whatever their load. */
public final class RoundRobin implements PlacementPolicy {
  private long next;

  @Override
  public int choose(List<AgentLoad> agents, int tokens) {
    return (int) (next++ % agents.size());
  }

  @Override
  public String name() {
    return "round-robin";
  }
}
