package io.decodefleet.coordinator.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** "The first N live agents": the one rule placement, drain transfers and a run's totals scope by. */
class FleetScopeTest {
  private static final List<String> FLEET = List.of("agent-0", "agent-1", "agent-2", "agent-3");

  @Test
  void takesTheFirstWorldSizeLiveAgentsInFleetOrder() {
    assertEquals(List.of("agent-0", "agent-2"), FleetScope.firstLive(FLEET, a -> !a.equals("agent-1"), 2));
  }

  @Test
  void worldSizeZeroMeansEveryLiveAgent() {
    assertEquals(List.of("agent-0", "agent-1", "agent-3"), FleetScope.firstLive(FLEET, a -> !a.equals("agent-2"), 0));
  }

  @Test
  void fewerLiveAgentsThanTheWorldSizeGivesThoseThereAre() {
    assertEquals(List.of("agent-3"), FleetScope.firstLive(FLEET, a -> a.equals("agent-3"), 3));
  }
}
