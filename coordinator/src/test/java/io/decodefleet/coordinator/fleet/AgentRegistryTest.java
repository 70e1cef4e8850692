package io.decodefleet.coordinator.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.protocol.AgentCommand;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One agent per id: a second agent giving a live agent's id from another node is refused. */
class AgentRegistryTest {
  private static final String NODE_A = "pekko://decodefleet@10.0.0.1:2552";
  private static final String NODE_B = "pekko://decodefleet@10.0.0.2:2552";
  private static final Predicate<String> ALL_LIVE = address -> true;
  private static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("AgentRegistryTest");
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static AgentInfo agent(String id, String node) {
    ActorRef<AgentCommand> ref = testKit.<AgentCommand>createTestProbe().getRef();
    return new AgentInfo(id, ref, node, "cpu slot 0", "cpu", 1);
  }

  @Test
  void aSecondAgentWithALiveAgentsIdFromAnotherNodeIsRefusedNamingTheIdAndBothNodes() {
    AgentInfo first = agent("node-a-0", NODE_A);
    AgentInfo second = agent("node-a-0", NODE_B);
    AgentRegistry registry = AgentRegistry.EMPTY.admit(first, ALL_LIVE).registry();

    AgentRegistry.Admission admission = registry.admit(second, ALL_LIVE);

    assertTrue(admission.refused());
    assertEquals("agent id node-a-0 of the node at " + NODE_B + " is held by the agent of the node at " + NODE_A
        + ": refused (give each gpu-agent its own --node-name)", admission.refusal());
    assertEquals(List.of(first), admission.registry().sorted(), "the first keeps the id");
    assertEquals(admission.refusal(), admission.registry().lastRefusal());
    assertFalse(admission.registry().waits(second.ref()));
  }

  @Test
  void distinctIdsAndAgainFromTheSameAgentAreAdmitted() {
    AgentInfo a = agent("node-a-10", NODE_A);
    AgentInfo b = agent("node-a-2", NODE_A);
    AgentRegistry registry = AgentRegistry.EMPTY.admit(a, ALL_LIVE).registry().admit(b, ALL_LIVE).registry();
    AgentRegistry.Admission again = registry.admit(a, ALL_LIVE);

    assertFalse(again.refused());
    assertEquals(List.of(b, a), again.registry().sorted(), "by id, in natural order");
    assertEquals(2, again.registry().size());
  }

  @Test
  void anIdHeldByAnAgentWhoseNodeIsNotLiveWaitsUntilThatAgentIsGone() {
    AgentInfo gone = agent("node-a-0", NODE_A);
    AgentInfo restarted = agent("node-a-0", NODE_B);
    AgentRegistry registry = AgentRegistry.EMPTY.admit(gone, ALL_LIVE).registry();

    AgentRegistry.Admission waiting = registry.admit(restarted, address -> !address.equals(NODE_A));
    assertFalse(waiting.refused());
    assertTrue(waiting.registry().waits(restarted.ref()));
    assertEquals(List.of(gone), waiting.registry().sorted());

    // The Receptionist no longer lists the unreachable one: the id is free.
    AgentRegistry afterListing = waiting.registry().retain(Set.of(restarted.ref()));
    assertEquals(0, afterListing.size());
    AgentRegistry.Admission admitted = afterListing.admit(restarted, ALL_LIVE);
    assertFalse(admitted.refused());
    assertEquals(List.of(restarted), admitted.registry().sorted());
    assertFalse(admitted.registry().waits(restarted.ref()));
  }

  @Test
  void aNodeRestartedOnTheSameAddressWaitsForItsOldIncarnationToLeave() {
    AgentInfo old = agent("node-a-0", NODE_A);
    AgentInfo fresh = agent("node-a-0", NODE_A);
    AgentRegistry.Admission admission = AgentRegistry.EMPTY.admit(old, ALL_LIVE).registry().admit(fresh, ALL_LIVE);

    assertFalse(admission.refused());
    assertTrue(admission.registry().waits(fresh.ref()));
  }
}
