package io.decodefleet.coordinator.placement;

import java.util.List;

/**
 * The agent with the most free KV blocks once every sequence already placed on it has grown to its
 * longest (the coordinator's projection, which stays right when requests arrive faster than agents
 * report). Ties go to the agent with fewer sequences in flight, then to the lower index.
 */
public final class LeastLoaded implements PlacementPolicy {
  @Override
  public int choose(List<AgentLoad> agents, int tokens) {
    int best = 0;
    for (int i = 1; i < agents.size(); i++) {
      AgentLoad a = agents.get(i);
      AgentLoad b = agents.get(best);
      long fa = a.projectedFreeBlocks();
      long fb = b.projectedFreeBlocks();
      if (fa > fb || (fa == fb && a.inFlight() < b.inFlight())) best = i;
    }
    return best;
  }

  @Override
  public String name() {
    return "least-loaded";
  }
}
