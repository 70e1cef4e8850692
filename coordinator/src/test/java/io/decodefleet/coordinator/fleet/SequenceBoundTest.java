package io.decodefleet.coordinator.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The bound on sequences per agent: a new sequence that finds every agent that could hold it at the
 * bound fails BUSY at once (the APIs' RESOURCE_EXHAUSTED / 429) instead of queueing there, and the
 * bound counts per agent, so another agent under it still takes one.
 */
class SequenceBoundTest {
  private static ActorTestKit kit;

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create();
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private final List<FleetAgent> fleet = new ArrayList<>();
  private final List<TestProbe<AgentCommand>> agents = new ArrayList<>();

  private void agent(String id) {
    TestProbe<AgentCommand> probe = kit.createTestProbe();
    FleetAgent a = new FleetAgent(new AgentInfo(id, probe.getRef(), "node", "cpu", "cpu", 1), fleet.size());
    a.loaded(new AgentReport.ModelLoaded(id, 64, 16, 8, 1024, 1, "", "p", ""));
    fleet.add(a);
    agents.add(probe);
  }

  /** Submits a sequence; what its subscriber was told at once (null: nothing, it was placed). */
  private SequenceEvent submit(SequencePlacement placement, long id) {
    TestProbe<SequenceEvent> subscriber = kit.createTestProbe();
    placement.submit(id, id, new int[] {1, 2, 3}, 4, SamplingParams.GREEDY, 0, "least-loaded", subscriber.getRef(), 100);
    try {
      return subscriber.receiveMessage(Duration.ofMillis(200));
    } catch (AssertionError nothing) {
      return null;
    }
  }

  @Test
  void aSequencePastTheBoundOfTheOnlyAgentFailsBusy() {
    agent("agent-0");
    SequencePlacement placement = new SequencePlacement(fleet, LoggerFactory.getLogger("test"), 2);
    assertEquals(null, submit(placement, 1));
    assertEquals(null, submit(placement, 2));
    agents.get(0).expectMessageClass(AgentCommand.StartSequences.class);
    agents.get(0).expectMessageClass(AgentCommand.StartSequences.class);
    SequenceEvent third = submit(placement, 3);
    SequenceEvent.Failed failed = (SequenceEvent.Failed) third;
    assertEquals(SequenceEvent.FailureKind.BUSY, failed.kind());
    assertTrue(failed.reason().contains("holds 2 sequences"), failed.reason());
    agents.get(0).expectNoMessage(Duration.ofMillis(100));
    assertEquals(2, placement.count());
  }

  @Test
  void theBoundIsPerAgent() {
    agent("agent-0");
    agent("agent-1");
    SequencePlacement placement = new SequencePlacement(fleet, LoggerFactory.getLogger("test"), 1);
    assertEquals(null, submit(placement, 1));
    assertEquals(null, submit(placement, 2), "the second agent is under the bound");
    agents.get(0).expectMessageClass(AgentCommand.StartSequences.class);
    agents.get(1).expectMessageClass(AgentCommand.StartSequences.class);
    assertEquals(SequenceEvent.FailureKind.BUSY, ((SequenceEvent.Failed) submit(placement, 3)).kind());
  }
}
