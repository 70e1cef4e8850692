package io.decodefleet.coordinator.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.VerifyResult;
import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.fleet.SequenceEvent.FailureKind;
import io.decodefleet.coordinator.kv.KvTransferHistory;
import io.decodefleet.coordinator.kv.KvTransferKind;
import io.decodefleet.coordinator.kv.KvTransferRecord;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import java.io.NotSerializableException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every Coordinator message that crosses between coordinator nodes, through the serializer bound to it. */
class CoordinatorProtocolSerializerTest {
  private static ActorTestKit testKit;
  private static Serialization serialization;
  private static ActorRef<SequenceEvent> subscriber;
  private static ActorRef<Coordinator.FleetStatus> fleetReplyTo;
  private static ActorRef<ClusterSnapshot> stateReplyTo;
  private static ActorRef<Coordinator.Command> coordinator;

  @BeforeAll
  static void startSystem() {
    testKit = ActorTestKit.create("CoordinatorProtocolSerializerTest", ConfigFactory.parseString(String.join("\n",
        "pekko.actor.provider = cluster",
        "pekko.remote.artery.canonical.port = 0",
        "pekko.remote.artery.canonical.hostname = 127.0.0.1",
        "pekko.actor.allow-java-serialization = off",
        "pekko.loglevel = WARNING")));
    serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
    subscriber = testKit.<SequenceEvent>createTestProbe().getRef();
    fleetReplyTo = testKit.<Coordinator.FleetStatus>createTestProbe().getRef();
    stateReplyTo = testKit.<ClusterSnapshot>createTestProbe().getRef();
    coordinator = testKit.<Coordinator.Command>createTestProbe().getRef();
  }

  @AfterAll
  static void stopSystem() {
    testKit.shutdownTestKit();
  }

  /** Through the serializer the bindings choose (this module's reference.conf), as a remote send does. */
  @SuppressWarnings("unchecked")
  private static <T> T roundTrip(T msg) throws Exception {
    var serializer = assertInstanceOf(CoordinatorProtocolSerializer.class, serialization.findSerializerFor(msg),
        msg.getClass() + " is bound to the coordinator's serializer");
    byte[] bytes = serializer.toBinary(msg);
    return (T) serialization.deserialize(bytes, serializer.identifier(), serializer.manifest(msg)).get();
  }

  private static ModelSpec spec() {
    return new ModelSpec("tiny", -42, 16, 320, 8, 512, 0.25, ModelSpec.PrefixCaching.OFF, 3);
  }

  @Test
  void submitKeepsThePromptSamplingAndSubscriber() throws Exception {
    SamplingParams sampled = new SamplingParams(0.7f, 0.9f, 40, 123456789L, new int[] {2, 7}, 3);
    for (SamplingParams sampling : List.of(SamplingParams.GREEDY, sampled)) {
      Coordinator.Submit in = new Coordinator.Submit(77, new int[] {5, 0, 2047}, 300, sampling, 2, "least-loaded",
          subscriber);
      Coordinator.Submit out = roundTrip(in);
      assertEquals(77, out.requestId());
      assertArrayEquals(in.prompt(), out.prompt());
      assertEquals(300, out.maxTokens());
      assertEquals(sampling, out.sampling());
      assertEquals(2, out.worldSize());
      assertEquals("least-loaded", out.placement());
      assertEquals(subscriber, out.subscriber());
    }
    assertEquals(new Coordinator.Cancel(9, subscriber), roundTrip(new Coordinator.Cancel(9, subscriber)));
  }

  @Test
  void loadFleetKeepsTheModelLayoutTimeoutAndAdoptMode() throws Exception {
    for (ParallelLayout layout : List.of(ParallelLayout.DATA_PARALLEL, new ParallelLayout.TensorParallel(2),
        new ParallelLayout.ExpertParallel(4),
        new ParallelLayout.Disaggregated(1, 3, KvTransferMode.EAGER))) {
      for (boolean adopt : new boolean[] {true, false}) {
        Coordinator.LoadFleet in = new Coordinator.LoadFleet(4, spec(), Duration.ofMillis(61_500), layout, adopt,
            fleetReplyTo);
        assertEquals(in, roundTrip(in));
      }
    }
    assertEquals(new Coordinator.GetClusterState(stateReplyTo), roundTrip(new Coordinator.GetClusterState(stateReplyTo)));
  }

  @Test
  void clusterSnapshotKeepsEveryField() throws Exception {
    Map<Integer, AgentSnapshot.StepStats> byBatch = new TreeMap<>(Map.of(1, new AgentSnapshot.StepStats(10, 1_000),
        16, new AgentSnapshot.StepStats(3, 9_000)));
    AgentSnapshot loaded = new AgentSnapshot("node-a-0", "pekko://decodefleet@127.0.0.1:2552", "cpu slot 0", "cpu",
        true, AgentSnapshot.Status.DRAINING, 128, 100, 16, 2, 1, 3, 13, 10_000, 400, 1, byBatch, Map.of("cpu", 13L),
        new AgentSnapshot.StepTimes(13, 9_000, 0, Double.NaN, 0, Double.NaN), "weights 1 MiB", 64, 32, 5,
        new AgentSnapshot.ProfileTotals(2, 8, 51.5, List.of(1.0, Double.NaN), List.of(0.5, 0.25)), 4);
    AgentSnapshot unloaded = new AgentSnapshot("node-b-0", "pekko://decodefleet@127.0.0.1:2553", "cpu slot 0", "cpu",
        false, AgentSnapshot.Status.UP, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Map.of(), Map.of(), AgentSnapshot.StepTimes.NONE, "");
    KvTransferHistory history = new KvTransferHistory("disagg=1:1", "graph", "ready", 7, List.of(
        new KvTransferRecord(6, 41, "node-a-0", "node-b-0", 65536, 0.5, Double.NaN, 2.25, false, KvTransferKind.HANDOFF),
        new KvTransferRecord(7, 42, "node-a-0", "node-b-0", 4096, 0.1, 0.2, 1.5, true, KvTransferKind.DRAIN_MIGRATION)));
    AgentSnapshot moe = new AgentSnapshot("node-c-0", "pekko://decodefleet@127.0.0.1:2554", "cpu slot 0", "cpu",
        true, AgentSnapshot.Status.UP, 64, 60, 16, 1, 0, 1, 4, 1_000, 40, 0, Map.of(), Map.of(),
        AgentSnapshot.StepTimes.NONE, "", 0, 0, 0, AgentSnapshot.ProfileTotals.NONE, 2,
        new io.decodefleet.agent.engine.ExpertLoad(1, 4, new long[] {3, 0, 4, 1}, new long[] {0, 0, 2, 0}));
    ClusterSnapshot full = new ClusterSnapshot("tiny", 2, List.of(loaded, unloaded, moe), 1, 5, history, 2);
    assertEquals(full, roundTrip(full));
    ClusterSnapshot empty = new ClusterSnapshot(null, 0, List.of(), 0, 0, null, 0);
    assertEquals(empty, roundTrip(empty));
    assertEquals(new Coordinator.FleetReady(full), roundTrip(new Coordinator.FleetReady(full)));
    assertEquals(new Coordinator.FleetFailed("only 1 of 2 agents joined within 60 s"),
        roundTrip(new Coordinator.FleetFailed("only 1 of 2 agents joined within 60 s")));
  }

  @Test
  void sequenceEventsKeepTheirFieldsAndAreStampedOnArrival() throws Exception {
    assertEquals(new SequenceEvent.Accepted(3, coordinator), roundTrip(new SequenceEvent.Accepted(3, coordinator)));
    long before = System.nanoTime();
    SequenceEvent.Tokens tokens = roundTrip(new SequenceEvent.Tokens(3, new int[] {11, 12}, "node-a-0", 1L));
    assertArrayEquals(new int[] {11, 12}, tokens.tokens());
    assertEquals("node-a-0", tokens.agentId());
    assertTrue(tokens.nanos() >= before, "the sender's nanoTime means nothing here: stamped on arrival");
    VerifyResult verify = new VerifyResult(true, false, 0.5, 4, "step 3 differs", 3e-2);
    SequenceEvent.Finished finished = roundTrip(new SequenceEvent.Finished(3, "node-a-0", 2, verify, "stop", 777, 555,
        1L));
    assertEquals(new SequenceEvent.Finished(3, "node-a-0", 2, verify, "stop", 777, 555, finished.nanos()), finished);
    // A prefill time not measured stays -1 across the wire, not 0.
    SequenceEvent.Finished unknown = roundTrip(new SequenceEvent.Finished(3, "node-a-0", 2, verify, "stop", 777, -1,
        1L));
    assertEquals(-1, unknown.prefillNanos());
    assertTrue(finished.nanos() >= before);
    for (FailureKind kind : FailureKind.values()) {
      SequenceEvent.Failed failed = roundTrip(new SequenceEvent.Failed(4, kind, "max_tokens: too many", 1L));
      assertEquals(new SequenceEvent.Failed(4, kind, "max_tokens: too many", failed.nanos()), failed);
    }
    SequenceEvent.Migrated migrated = new SequenceEvent.Migrated(5, "node-a-0", "node-b-0", "agent node-a-0 lost");
    assertEquals(migrated, roundTrip(migrated));
  }

  @Test
  void unknownManifestIsRefused() {
    var serializer = new CoordinatorProtocolSerializer((org.apache.pekko.actor.ExtendedActorSystem)
        Adapter.toClassic(testKit.system()));
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(new byte[0], "RunBenchmark"));
  }
}
