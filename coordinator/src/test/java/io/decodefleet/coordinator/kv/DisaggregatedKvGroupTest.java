package io.decodefleet.coordinator.kv;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.agent.protocol.AgentCommand;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.agent.engine.kv.KvTransferOutcome;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.fleet.AgentInfo;
import io.decodefleet.coordinator.fleet.FleetAgent;
import io.decodefleet.coordinator.fleet.InFlightSequence;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.placement.LeastLoaded;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's disaggregated bookkeeping against fake agents (probes): how the group forms,
 * which agent prefills and which decodes, what a hand-off tells each side, how reservations move,
 * and what a failure does. No engine, no cluster.
 */
class DisaggregatedKvGroupTest {
  private static ActorTestKit kit;

  private final List<TestProbe<AgentCommand>> probes = new ArrayList<>();
  private final List<FleetAgent> fleet = new ArrayList<>();
  private final Map<Long, InFlightSequence> sequences = new HashMap<>();
  private final List<String> replaced = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  private int ready;
  private DisaggregatedKvGroup disagg;

  @BeforeAll
  static void startKit() {
    kit = ActorTestKit.create();
  }

  @AfterAll
  static void stopKit() {
    kit.shutdownTestKit();
  }

  /** disagg=2:2; agent i has 100 - 10 i blocks of 16 tokens. */
  @BeforeEach
  void fleetOfFour() {
    for (int i = 0; i < 4; i++) {
      TestProbe<AgentCommand> p = kit.createTestProbe();
      probes.add(p);
      FleetAgent a = new FleetAgent(new AgentInfo("agent-" + i, p.getRef(), "node", "gpu " + i, "cuda", 1), i);
      a.loaded(new AgentReport.ModelLoaded("agent-" + i, 100 - 10 * i, 16, 8, 4096, 1, "not reported", "", ""));
      fleet.add(a);
    }
    disagg = new DisaggregatedKvGroup(new ParallelLayout.Disaggregated(2, 2, KvTransferMode.GRAPH), fleet,
        kit.<AgentReport>createTestProbe().getRef(), Duration.ofSeconds(30), new DisaggregatedKvGroup.Host(() -> ready++,
            failures::add, sequences::get, (seq, cause) -> replaced.add(seq.globalId + ": " + cause), m -> { }));
  }

  private void formGroup() {
    disagg.start();
    probes.get(0).expectMessageClass(AgentCommand.CreateKvGroupId.class);
    disagg.onReport(new AgentReport.KvGroupId("agent-0", new byte[128]), fleet.get(0));
    for (int i = 0; i < 4; i++) {
      probes.get(i).expectMessageClass(AgentCommand.JoinKvGroup.class);
      disagg.onReport(new AgentReport.KvGroupJoined("agent-" + i, i, ""), fleet.get(i));
    }
  }

  private InFlightSequence sequence(long id, int promptLength, int maxTokens) {
    InFlightSequence seq = new InFlightSequence(id, 1000 + id, new int[promptLength], maxTokens, SamplingParams.GREEDY, 0, "least-loaded",
        kit.<SequenceEvent>createTestProbe().getRef());
    sequences.put(id, seq);
    return seq;
  }

  @Test
  void groupFormsWithEveryAgentJoiningAsItsIndexConnectedToTheOtherRole() {
    disagg.start();
    probes.get(0).expectMessageClass(AgentCommand.CreateKvGroupId.class);
    for (int i = 1; i < 4; i++) probes.get(i).expectNoMessage(Duration.ofMillis(20));
    byte[] id = new byte[128];
    id[5] = 42;
    disagg.onReport(new AgentReport.KvGroupId("agent-0", id), fleet.get(0));
    List<List<Integer>> peers = List.of(List.of(2, 3), List.of(2, 3), List.of(0, 1), List.of(0, 1));
    for (int i = 0; i < 4; i++) {
      AgentCommand.JoinKvGroup join = probes.get(i).expectMessageClass(AgentCommand.JoinKvGroup.class);
      assertEquals(i, join.rank());
      assertEquals(4, join.nranks());
      assertEquals(peers.get(i), join.peers());
      assertEquals("graph", join.transferMode());
      assertArrayEquals(id, join.id());
      assertEquals(0, ready, "not ready before every agent joined");
      disagg.onReport(new AgentReport.KvGroupJoined("agent-" + i, i, ""), fleet.get(i));
    }
    assertEquals(1, ready);
    assertTrue(disagg.intact());
    assertEquals("ready", disagg.transfers().group());
  }

  @Test
  void joinFailureFailsTheLoadNamingTheAgentAndAbortsEveryMember() {
    disagg.start();
    disagg.onReport(new AgentReport.KvGroupId("agent-0", new byte[128]), fleet.get(0));
    disagg.onReport(new AgentReport.KvGroupFailed("agent-2", "NCCL is unavailable on Linux/amd64: no libnccl"),
        fleet.get(2));
    assertEquals(List.of("agent agent-2 could not join the KV-transfer group of disagg=2:2: NCCL is unavailable on "
        + "Linux/amd64: no libnccl"), failures);
    for (TestProbe<AgentCommand> p : probes) {
      p.fishForMessage(Duration.ofSeconds(1), m -> m instanceof AgentCommand.AbortKvGroup
          ? FishingOutcomes.complete()
          : FishingOutcomes.continueAndIgnore());
    }
    assertFalse(disagg.intact());
  }

  @Test
  void newSequencesPrefillOnAPrefillAgentAndOnlyOnceTheGroupFormed() {
    InFlightSequence seq = sequence(1, 40, 10);
    assertNull(disagg.prefillAgent(seq, new LeastLoaded()), "no group yet: data-parallel placement");
    formGroup();
    FleetAgent p = disagg.prefillAgent(seq, new LeastLoaded());
    assertSame(fleet.get(0), p, "the prefill agent with the most free blocks");
    assertEquals(41, seq.prefillTokens(), "prompt + the first token");
    assertNull(disagg.prefillAgent(sequence(2, 40, 5000), new LeastLoaded()), "no decode agent could hold it");
  }

  @Test
  void kvReadyHandsTheSequenceToTheLeastLoadedDecodeAgentWithMatchingRanks() {
    formGroup();
    InFlightSequence seq = sequence(7, 40, 10);
    seq.agent = fleet.get(1);
    seq.reservedTokens = 41;
    fleet.get(1).reserve(41);
    seq.append(new int[] {99});
    fleet.get(2).reserve(16 * 30); // agent-2: 80 - 30 = 50 projected free blocks; agent-3 has 70

    disagg.onReport(new AgentReport.KvReady("agent-1", 7, 40), fleet.get(1));

    assertEquals(new AgentCommand.SendKv(7, 3), probes.get(1).expectMessageClass(AgentCommand.SendKv.class));
    AgentCommand.ReceiveKv receive = probes.get(3).expectMessageClass(AgentCommand.ReceiveKv.class);
    assertEquals(1, receive.peerRank());
    assertEquals(40, receive.promptTokens().length);
    assertArrayEquals(new int[] {99}, receive.outputTokens(), "the first token, already streamed");
    assertEquals(10, receive.maxTokens());
    assertEquals(40, receive.numComputedTokens());
    assertSame(fleet.get(3), seq.agent, "its tokens are taken from the decode agent from now on");
    assertEquals(4, fleet.get(3).load().reservedBlocks(), "50 tokens at most: 4 blocks on the decode agent");
    assertEquals(3, fleet.get(1).load().reservedBlocks(), "the prefill agent keeps its 41 tokens until it sent");

    disagg.onReport(new AgentReport.KvTransferred("agent-1", 7, true, 1 << 20, 0.5, KvTransferOutcome.DONE, ""), fleet.get(1));
    assertEquals(0, fleet.get(1).load().reservedBlocks());
    assertEquals(0, disagg.transfers().total(), "logged once both sides reported");
    disagg.onReport(new AgentReport.KvTransferred("agent-3", 7, false, 1 << 20, 0.25, KvTransferOutcome.DONE, ""),
        fleet.get(3));
    KvTransferRecord r = disagg.transfers().recent().get(0);
    assertEquals(1 << 20, r.bytes());
    assertEquals(0.25, r.millis(), "the shorter side: the one that did not wait");
    assertEquals("agent-1", r.fromAgent());
    assertEquals("agent-3", r.toAgent());
  }

  @Test
  void failedTransferBreaksTheGroupAndReplacesTheSequenceDataParallel() {
    formGroup();
    InFlightSequence seq = sequence(8, 20, 5);
    seq.agent = fleet.get(0);
    seq.reservedTokens = 21;
    seq.append(new int[] {1});
    disagg.onReport(new AgentReport.KvReady("agent-0", 8, 20), fleet.get(0));
    FleetAgent decode = seq.agent;

    disagg.onReport(new AgentReport.KvTransferred(decode.info.agentId(), 8, false, 0, Double.NaN, KvTransferOutcome.FAILED,
        "ncclRecv failed"), decode);

    assertFalse(disagg.intact());
    assertTrue(disagg.transfers().group().startsWith("broken: " + decode.info.agentId() + ": ncclRecv failed"));
    assertEquals(List.of("8: its KV transfer failed: ncclRecv failed"), replaced);
    assertNull(disagg.prefillAgent(sequence(9, 5, 5), new LeastLoaded()), "placement is data-parallel from now on");
    // A sequence that finishes its prefill afterwards is released on its agent and re-placed.
    InFlightSequence late = sequence(10, 5, 5);
    late.agent = fleet.get(1);
    disagg.onReport(new AgentReport.KvReady("agent-1", 10, 5), fleet.get(1));
    probes.get(1).fishForMessage(Duration.ofSeconds(1), m -> m.equals(new AgentCommand.SendKv(10, -1))
        ? FishingOutcomes.complete()
        : FishingOutcomes.continueAndIgnore());
    assertTrue(replaced.get(1).startsWith("10: the KV-transfer group is broken"), replaced.toString());
  }

  @Test
  void kvReadyOfASequenceThatMovedOnReleasesItsBlocksWithoutAHandoff() {
    formGroup();
    disagg.onReport(new AgentReport.KvReady("agent-0", 404, 12), fleet.get(0));
    assertEquals(new AgentCommand.SendKv(404, -1), probes.get(0).expectMessageClass(AgentCommand.SendKv.class));
    for (int i = 2; i < 4; i++) probes.get(i).expectNoMessage(Duration.ofMillis(20));
    assertTrue(disagg.intact());
  }
}
