package io.decodefleet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.SequenceFinished;
import io.decodefleet.agent.engine.SequenceSpec;
import io.decodefleet.agent.engine.SequenceSpecs;
import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GpuAgentTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static ActorTestKit testKit;

  @BeforeAll
  static void startSystem() {
    testKit = ActorTestKit.create("GpuAgentTest", ConfigFactory.parseString(String.join("\n",
        "pekko.actor.provider = cluster",
        "pekko.remote.artery.canonical.port = 0",
        "pekko.remote.artery.canonical.hostname = 127.0.0.1",
        "pekko.loglevel = WARNING")));
  }

  @AfterAll
  static void stopSystem() {
    testKit.shutdownTestKit();
  }

  private static ActorRef<AgentCommand> spawnAgent(String id) {
    return testKit.spawn(GpuAgent.create(id, "cpu slot 0", "cpu", () -> new CpuBackend()), id);
  }

  private static ModelSpec tiny(int kvBlocks) {
    return new ModelSpec("tiny", 5, 16, kvBlocks, 8, 64, 1.0);
  }

  @Test
  void registerAnswersWithTheAgentItself() {
    TestProbe<AgentReport> coordinator = testKit.createTestProbe();
    ActorRef<AgentCommand> agent = spawnAgent("agent-reg");
    agent.tell(new AgentCommand.Register(coordinator.getRef()));
    AgentReport.Registered r = coordinator.expectMessageClass(AgentReport.Registered.class, WAIT);
    assertEquals("agent-reg", r.agentId());
    assertEquals(agent, r.agent());
    assertEquals("cpu", r.backend());
    assertEquals("cpu slot 0", r.device());
    assertTrue(r.nodeAddress().startsWith("pekko://GpuAgentTest@127.0.0.1:"), r.nodeAddress());
  }

  @Test
  void withoutAModelSequencesFailAndDrainIsEmpty() {
    TestProbe<AgentReport> coordinator = testKit.createTestProbe();
    ActorRef<AgentCommand> agent = spawnAgent("agent-empty");
    agent.tell(new AgentCommand.Register(coordinator.getRef()));
    coordinator.expectMessageClass(AgentReport.Registered.class, WAIT);
    agent.tell(new AgentCommand.StartSequences(List.of(SequenceSpecs.decodeToEnd(9, new int[] {1, 2}, 3))));
    AgentReport.SequenceFailed f = coordinator.expectMessageClass(AgentReport.SequenceFailed.class, WAIT);
    assertEquals(9, f.sequenceId());
    agent.tell(new AgentCommand.Drain(coordinator.getRef()));
    assertEquals(List.of(), coordinator.expectMessageClass(AgentReport.Drained.class, WAIT).unfinishedSequenceIds());
  }

  @Test
  void loadsDecodesAndReportsEveryTokenToTheCoordinator() {
    TestProbe<AgentReport> coordinator = testKit.createTestProbe();
    ActorRef<AgentCommand> agent = spawnAgent("agent-run");
    agent.tell(new AgentCommand.LoadModel(tiny(32), coordinator.getRef()));
    AgentReport.ModelLoaded loaded = coordinator.expectMessageClass(AgentReport.ModelLoaded.class, WAIT);
    assertEquals("agent-run", loaded.agentId(), "the engine's events reach the wire as this agent's reports");
    assertEquals(32, loaded.kvBlocks());
    assertEquals(512, loaded.maxModelLen());

    agent.tell(new AgentCommand.StartSequences(List.of(SequenceSpecs.decodeToEnd(1, new int[] {4, 5, 6}, 5),
        SequenceSpecs.decodeToEnd(2, new int[] {7, 8, 9, 10, 11}, 3), SequenceSpecs.decodeToEnd(3, new int[600], 1))));
    Map<Long, Integer> tokens = new HashMap<>();
    Map<Long, SequenceFinished> finished = new HashMap<>();
    boolean rejected = false;
    while (finished.size() < 2 || !rejected) {
      AgentReport r = coordinator.expectMessageClass(AgentReport.class, WAIT);
      assertEquals("agent-run", r.agentId());
      if (r instanceof AgentReport.StepReport s) {
        for (var t : s.tokens()) tokens.merge(t.sequenceId(), t.tokens().length, Integer::sum);
        for (var f : s.finished()) finished.put(f.sequenceId(), f);
      } else if (r instanceof AgentReport.SequenceFailed f) {
        assertEquals(3, f.sequenceId());
        rejected = true;
      } else {
        throw new AssertionError("unexpected " + r);
      }
    }
    assertEquals(Map.of(1L, 5, 2L, 3), tokens);
    assertTrue(finished.get(1L).verify().passed());
    assertTrue(finished.get(2L).verify().passed());

    agent.tell(new AgentCommand.Drain(coordinator.getRef()));
    assertEquals(List.of(), coordinator.expectMessageClass(AgentReport.Drained.class, WAIT).unfinishedSequenceIds());
  }

  @Test
  void unknownModelAnswersLoadFailed() {
    TestProbe<AgentReport> coordinator = testKit.createTestProbe();
    ActorRef<AgentCommand> agent = spawnAgent("agent-bad");
    agent.tell(new AgentCommand.LoadModel(new ModelSpec("nope", 1, 16, 8, 8, 64, 0), coordinator.getRef()));
    AgentReport.LoadFailed f = coordinator.expectMessageClass(AgentReport.LoadFailed.class, WAIT);
    assertEquals("agent-bad", f.agentId());
    assertTrue(f.reason().contains("nope"), f.reason());
    // With the load failed there is no engine: sequences are refused.
    agent.tell(new AgentCommand.StartSequences(List.of(SequenceSpecs.decodeToEnd(1, new int[] {1}, 1))));
    coordinator.expectMessageClass(AgentReport.SequenceFailed.class, WAIT);
  }

  /**
   * The coordinator may reload: a failed load of a previous LoadModel must not detach the engine of
   * the latest one (its late LoadFailed used to null the current engine, so every later sequence
   * was refused with "no model loaded" although ModelLoaded had been reported).
   */
  @Test
  void lateLoadFailureOfAReplacedEngineDoesNotDetachTheCurrentOne() {
    TestProbe<AgentReport> coordinator = testKit.createTestProbe();
    ActorRef<AgentCommand> agent = spawnAgent("agent-reload");
    agent.tell(new AgentCommand.LoadModel(new ModelSpec("nope", 1, 16, 8, 8, 64, 0), coordinator.getRef()));
    agent.tell(new AgentCommand.LoadModel(tiny(16), coordinator.getRef()));
    boolean failed = false;
    boolean loaded = false;
    while (!failed || !loaded) {
      AgentReport r = coordinator.expectMessageClass(AgentReport.class, WAIT);
      if (r instanceof AgentReport.LoadFailed) failed = true;
      else if (r instanceof AgentReport.ModelLoaded) loaded = true;
      else throw new AssertionError("unexpected " + r);
    }
    agent.tell(new AgentCommand.StartSequences(List.of(SequenceSpecs.decodeToEnd(1, new int[] {1, 2, 3}, 2))));
    int tokens = 0;
    while (tokens < 2) {
      AgentReport r = coordinator.expectMessageClass(AgentReport.class, WAIT);
      if (!(r instanceof AgentReport.StepReport s)) throw new AssertionError("expected tokens, got " + r);
      tokens += s.tokens().size();
    }
  }
}
