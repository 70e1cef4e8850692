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

  /** A prompt of {@code n} tokens (more than one KV block of 16: its full blocks are prefix-cached). */
  private static int[] prompt(int n, int salt) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) p[i] = (i * 7 + salt) % 200 + 1;
    return p;
  }

  /** Reads reports until sequence {@code id} finished; returns the step report that finished it. */
  private static AgentReport.StepReport untilFinished(TestProbe<AgentReport> coordinator, long id,
      java.util.Set<Long> finishedSeen, long[] prefixHits) {
    while (true) {
      AgentReport r = coordinator.expectMessageClass(AgentReport.class, WAIT);
      if (r instanceof AgentReport.PrefixCacheReport p) prefixHits[0] += p.hitTokens();
      if (!(r instanceof AgentReport.StepReport s)) continue;
      for (var f : s.finished()) finishedSeen.add(f.sequenceId());
      if (s.finished().stream().anyMatch(f -> f.sequenceId() == id)) return s;
    }
  }

  /**
   * A coordinator that takes over (another reply address) adopts the resident model: its LoadModel
   * with keepResident is answered at once by the same engine (the prefix cache still holds what the
   * first coordinator's sequences computed), and the first coordinator's sequences are aborted, so
   * they neither finish nor hold KV.
   */
  @Test
  void anotherCoordinatorAdoptsTheResidentEngineAndTheFirstOnesSequencesAreAborted() {
    TestProbe<AgentReport> first = testKit.createTestProbe();
    TestProbe<AgentReport> second = testKit.createTestProbe();
    ActorRef<AgentCommand> agent = spawnAgent("agent-takeover");
    ModelSpec spec = tiny(160).withPrefixCaching(ModelSpec.PrefixCaching.ON);
    agent.tell(new AgentCommand.Register(first.getRef()));
    first.expectMessageClass(AgentReport.Registered.class, WAIT);
    agent.tell(new AgentCommand.LoadModel(spec, first.getRef()));
    AgentReport.ModelLoaded loaded = first.expectMessageClass(AgentReport.ModelLoaded.class, WAIT);
    java.util.Set<Long> finished = new java.util.HashSet<>();
    agent.tell(new AgentCommand.StartSequences(List.of(SequenceSpecs.decodeToEnd(1, prompt(40, 1), 2))));
    untilFinished(first, 1, finished, new long[1]);
    List<SequenceSpec> endless = List.of(SequenceSpecs.decodeToEnd(10, prompt(20, 2), 2000),
        SequenceSpecs.decodeToEnd(11, prompt(20, 3), 2000), SequenceSpecs.decodeToEnd(12, prompt(20, 4), 2000));
    agent.tell(new AgentCommand.StartSequences(endless));
    while (true) {
      AgentReport r = first.expectMessageClass(AgentReport.class, WAIT);
      if (r instanceof AgentReport.StepReport s && s.running() == 3) break;
    }

    agent.tell(new AgentCommand.Register(second.getRef()));
    agent.tell(new AgentCommand.LoadModel(spec, second.getRef(), true));
    agent.tell(new AgentCommand.StartSequences(List.of(SequenceSpecs.decodeToEnd(2, prompt(40, 1), 3))));
    boolean registered = false;
    AgentReport.ModelLoaded adopted = null;
    while (!registered || adopted == null) {
      AgentReport r = second.expectMessageClass(AgentReport.class, WAIT);
      if (r instanceof AgentReport.Registered) registered = true;
      if (r instanceof AgentReport.ModelLoaded m) adopted = m;
    }
    assertEquals(loaded, adopted, "the resident engine answers, not a new load");
    long[] hits = new long[1];
    AgentReport.StepReport last = untilFinished(second, 2, finished, hits);
    assertTrue(hits[0] >= 32, "the adopted engine's prefix cache still held the first prompt: " + hits[0]);
    assertEquals(0, last.running() + last.waiting(), "the first coordinator's sequences were aborted");
    assertEquals(loaded.kvBlocks(), last.freeKvBlocks(), "and their KV freed");
    for (SequenceSpec s : endless) assertTrue(!finished.contains(s.sequenceId()), "aborted, not finished: " + s);
  }
}
