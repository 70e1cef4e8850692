package io.decodefleet.coordinator.fleet;

import java.util.List;
import java.util.function.Predicate;

/**
 * Which agents serve a run or a sequence: the first {@code worldSize} live agents of the fleet in
 * fleet order (agent id order), or every live one for a world size of 0. Placement, drain
 * transfers and a run's engine totals all scope by this one rule.
 */
public final class FleetScope {
  private FleetScope() {}

  /**
   * @param agents the fleet (or a snapshot's agents), in fleet order
   * @param live whether an agent can still serve
   * @param worldSize how many to take; 0 or less: all live agents
   */
  public static <A> List<A> firstLive(List<A> agents, Predicate<? super A> live, int worldSize) {
    List<A> alive = agents.stream().filter(live).toList();
    return worldSize <= 0 ? alive : alive.subList(0, Math.min(worldSize, alive.size()));
  }
}
