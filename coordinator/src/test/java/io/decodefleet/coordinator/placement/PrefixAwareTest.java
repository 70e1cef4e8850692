package io.decodefleet.coordinator.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The prefix-aware policy: cached prefix against load, in KV blocks, and its fall-back to least-loaded. */
class PrefixAwareTest {

  private static AgentLoad agent(int index, long reserved, int inFlight, int cached) {
    return new AgentLoad("agent-" + index, index, 1000, 16, reserved, inFlight, cached);
  }

  @Test
  void anAgentHoldingThePrefixWinsUntilItIsBusierByTenTimesThePrefix() {
    PrefixAware p = new PrefixAware(0.1);
    // 32 cached blocks outweigh up to 320 reserved blocks more.
    assertEquals(1, p.choose(List.of(agent(0, 0, 0, 0), agent(1, 300, 8, 32)), 600));
    assertEquals(0, p.choose(List.of(agent(0, 0, 0, 0), agent(1, 340, 9, 32)), 600));
  }

  @Test
  void withoutCachedPrefixesItIsLeastLoadedWithTheSameTieBreaks() {
    PrefixAware p = new PrefixAware(PrefixAware.DEFAULT_LOAD_WEIGHT);
    LeastLoaded ll = new LeastLoaded();
    List<List<AgentLoad>> cases = List.of(
        List.of(agent(0, 50, 2, 0), agent(1, 20, 1, 0), agent(2, 20, 0, 0)),
        List.of(agent(0, 0, 0, 0), agent(1, 0, 0, 0)),
        List.of(agent(0, 90, 3, 0), agent(1, 10, 5, 0)));
    for (List<AgentLoad> agents : cases) assertEquals(ll.choose(agents, 64), p.choose(agents, 64), agents.toString());
  }

  @Test
  void theLongerCachedPrefixWinsAtEqualLoad() {
    PrefixAware p = new PrefixAware(1.0);
    assertEquals(2, p.choose(List.of(agent(0, 10, 1, 3), agent(1, 10, 1, 0), agent(2, 10, 1, 7)), 200));
  }

  @Test
  void theWeightComesFromThePolicyNameAndBadWeightsAreRefused() {
    assertTrue(PlacementPolicy.named("prefix-aware").readsPrefixCaches());
    assertEquals("prefix-aware", PlacementPolicy.named("prefix-aware").name());
    assertEquals("prefix-aware:0.5", PlacementPolicy.named("prefix-aware:0.5").name());
    assertThrows(IllegalArgumentException.class, () -> PlacementPolicy.named("prefix-aware:-1"));
    assertThrows(IllegalArgumentException.class, () -> PlacementPolicy.named("prefix-aware:lots"));
    assertTrue(!PlacementPolicy.named("least-loaded").readsPrefixCaches());
  }
}
