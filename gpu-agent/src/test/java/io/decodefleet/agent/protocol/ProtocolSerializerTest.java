package io.decodefleet.agent.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.SequenceFinished;
import io.decodefleet.agent.engine.SequenceSpec;
import io.decodefleet.agent.engine.SequenceSpecs;
import io.decodefleet.agent.engine.SequenceTokens;
import io.decodefleet.agent.engine.VerifyResult;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.agent.engine.kv.HeldKv;
import io.decodefleet.agent.engine.kv.KvTransferOutcome;
import java.io.NotSerializableException;
import java.util.List;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.SerializerWithStringManifest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ProtocolSerializerTest {
  private static ActorTestKit testKit;
  private static Serialization serialization;
  private static ActorRef<AgentReport> coordinatorRef;
  private static ActorRef<AgentCommand> agentRef;

  @BeforeAll
  static void startSystem() {
    testKit = ActorTestKit.create("ProtocolSerializerTest", ConfigFactory.parseString(String.join("\n",
        "pekko.actor.provider = cluster",
        "pekko.remote.artery.canonical.port = 0",
        "pekko.remote.artery.canonical.hostname = 127.0.0.1",
        "pekko.loglevel = WARNING")));
    serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
    coordinatorRef = testKit.<AgentReport>createTestProbe().getRef();
    agentRef = testKit.<AgentCommand>createTestProbe().getRef();
  }

  @AfterAll
  static void stopSystem() {
    testKit.shutdownTestKit();
  }

  /** Every protocol message, with every field set to a non-default value so a dropped field shows. */
  static Stream<ProtocolMessage> messages() {
    return Stream.of(
        new AgentCommand.Register(coordinatorRef),
        new AgentCommand.RegistrationRefused("agent id node-a-0 is held by the agent at pekko://decodefleet@10.0.0.7:2552;"
            + " refused the one at pekko://decodefleet@10.0.0.8:2552"),
        new AgentCommand.LoadModel(new ModelSpec("llama3-8b", -1234567890123L, 32, 4096, 48, 8192, 0.125), coordinatorRef),
        new AgentCommand.StartSequences(List.of(
            SequenceSpecs.decodeToEnd(Long.MAX_VALUE, new int[] {1, 2, 3, 128255, 0}, 512),
            SequenceSpecs.decodeToEnd(42, new int[] {7}, 1))),
        new AgentCommand.StartSequences(List.of()),
        new AgentReport.PrefixCacheReport("node-a-0", List.of(7L, -3L), List.of(11L), 96, 64, 3),
        new AgentCommand.Drain(coordinatorRef),
        AgentReportFixtures.registered("agent-3", agentRef, "pekko://decodefleet@10.0.0.7:25520",
            "NVIDIA H200 (GPU 3)", "cuda"),
        new AgentReport.Registered("agent-4", agentRef, "pekko://decodefleet@10.0.0.7:25520",
            "tensor-parallel x2 over GPU 4 + GPU 5", "cuda", 2),
        new AgentReport.Registered("agent-5", agentRef, "pekko://decodefleet@10.0.0.7:25520",
            "expert-parallel x4 over cpu rank 0 + cpu rank 1 + cpu rank 2 + cpu rank 3", "cpu", 4,
            io.decodefleet.agent.engine.tp.Parallelism.EXPERT),
        AgentReportFixtures.modelLoaded("agent-3", 12345, 16, 256, 131072, 98765432123L),
        new AgentReport.ModelLoaded("agent-0", 64, 16, 8, 1024, 3, "", "process 5f0c", ""),
        new AgentReport.ModelLoaded("agent-1", 64, 16, 8, 1024, 3, "the CPU backend's KV pool is not allocated", "",
            "GPU 0 (NVIDIA H200): GEMM dispatch: cuBLASLt 117 of 117 shapes, ours 0"),
        new AgentReport.LoadFailed("agent-3", "OutOfMemoryError: no memory left for even one KV block"),
        new AgentReport.StepReport("agent-3", 1L << 40,
            List.of(new SequenceTokens(11, new int[] {5}),
                new SequenceTokens(12, new int[] {6, 7, 8})),
            List.of(
                new SequenceFinished(12, "length", 300, 2,
                    new VerifyResult(true, true, 3.25e-6, 300, "", 1e-4)),
                new SequenceFinished(13, "stop", 7, 0, VerifyResult.NOT_CHECKED, 1_234_567L, 7_654_321L),
                new SequenceFinished(14, "length", 9, 1,
                    new VerifyResult(true, false, 0.5, 4, "step 3: logits differ", 3e-2))),
            77, 5, 9, 1024, 123456789L, 3, 17, "graph", 12345L, 811.5, 19.25),
        new AgentReport.StepReport("agent-0", 1, List.of(), List.of(), 0, 0, 0, 0, 0, 0, 0, "", 0, Double.NaN,
            Double.NaN),
        new AgentCommand.LoadModel(new ModelSpec("tiny", 7, 16, 64, 8, 512, 0.0).withProfileSteps(3), coordinatorRef),
        new AgentCommand.LoadModel(new ModelSpec("tiny", 7, 16, 64, 8, 512, 0.0), coordinatorRef, true),
        new AgentCommand.LoadModel(new ModelSpec("/models/Llama-3.2-1B-FP8", 0, 16, 0, 0, 0, 0.0).withWeights(
            ModelSpec.LoadFormat.SAFETENSORS, ModelSpec.Quantization.FP8, ModelSpec.KvCacheDtype.FP8), coordinatorRef),
        new AgentReport.StepReport("agent-1", 9, List.of(new SequenceTokens(3, new int[] {4})), List.of(), 60, 1, 0,
            1, 2_000_000L, 0, 1, "eager", 1_900_000L, 1850.5, 3.5, new io.decodefleet.agent.engine.StepProfile(1,
                1850.5, List.of(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.0, 8.0, 9.0, 10.0, 11.0, 12.0),
                List.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, Double.NaN, 0.8, 0.9, 1.0, 1.1, 1.2))),
        new AgentReport.StepReport("agent-2", 4, List.of(new SequenceTokens(3, new int[] {4})), List.of(), 60, 1, 0,
            1, 2_000_000L, 0, 1, "cpu", 1_900_000L, Double.NaN, Double.NaN, null,
            new io.decodefleet.agent.engine.ExpertLoad(2, 3, new long[] {1, 0, 5, 2, 2, 2},
                new long[] {0, 0, 1, 0, 3, 0})),
        new AgentReport.StepReport("agent-4", 5, List.of(), List.of(), 60, 1, 0, 3, 2_000_000L, 0, 1, "cpu",
            1_900_000L, Double.NaN, Double.NaN, null, null,
            new io.decodefleet.agent.engine.AllReduceTraffic(16, 16L * 3 * 128 * 4)),
        new AgentCommand.LoadModel(new ModelSpec("tiny-moe", 7, 16, 64, 8, 512, 0.0).withMoeRouter(
            io.decodefleet.agent.engine.MoeRouterPolicy.parse("capacity:1.25")), coordinatorRef),
        new AgentReport.SequenceFailed("agent-3", -5, "needs 99 KV blocks of 16 tokens, the pool holds 12"),
        new AgentReport.Drained("agent-3", List.of(3L, 1L, Long.MIN_VALUE)),
        new AgentReport.Drained("agent-3", List.of()),
        new AgentReport.Drained("agent-2", List.of(4L), List.of(new HeldKv(Long.MAX_VALUE, 8191),
            new HeldKv(-1, 0))),
        new AgentCommand.StartSequences(List.of(new SequenceSpec(9, new int[] {4, 5}, 64, true),
            new SequenceSpec(10, new int[] {6}, 1, false))),
        new AgentCommand.CreateKvGroupId(coordinatorRef),
        new AgentCommand.JoinKvGroup(kvId(), 3, 4, List.of(0, 1), "graph", 120_000L, coordinatorRef),
        new AgentCommand.JoinKvGroup(kvId(), 0, 2, List.of(), "eager", 1L, coordinatorRef),
        new AgentCommand.AbortKvGroup("agent agent-1 left the cluster"),
        new AgentCommand.SendKv(Long.MIN_VALUE, 1),
        new AgentCommand.SendKv(42, -1),
        new AgentCommand.ReceiveKv(Long.MAX_VALUE, new int[] {1, 128255, 0}, new int[] {77, 78}, 256, 4, 0),
        new AgentCommand.ReceiveKv(1, new int[] {5}, new int[0], 1, 0, 3),
        new AgentCommand.ReceiveKv(2, new int[] {5}, new int[] {6}, 9, 1, 0,
            new SamplingParams(0.7f, 0.9f, 40, -77L, new int[] {257, 3}, 2)),
        new AgentCommand.StartSequences(List.of(new SequenceSpec(11, new int[] {1}, 8, false,
            new SamplingParams(1.5f, 1f, 0, Long.MAX_VALUE, new int[0], 0)),
            new SequenceSpec(12, new int[] {1}, 8, true, new SamplingParams(0f, 1f, 0, 0, new int[] {128001}, 4)))),
        new AgentCommand.AbortSequences(List.of(Long.MIN_VALUE, 0L, 99L)),
        new AgentCommand.AbortSequences(List.of()),
        new AgentCommand.ProfileSteps(7),
        new AgentReport.KvGroupId("agent-0", kvId()),
        new AgentReport.KvGroupJoined("agent-1", 1, "NCCL 2.28.9, rank 1 of 2 on GPU 1, graph transfers"),
        new AgentReport.KvGroupFailed("agent-1", "NCCL is unavailable on Linux/amd64: libnccl.so.2 not found"),
        new AgentReport.KvReady("agent-0", 123456789012L, 8191),
        new AgentReport.KvTransferred("agent-0", 7, true, 1L << 33, 2.75, KvTransferOutcome.DONE, ""),
        new AgentReport.KvTransferred("agent-1", 7, false, 65536, 0.125, KvTransferOutcome.RECOMPUTE,
            "no free KV blocks: re-prefilling here"),
        new AgentReport.KvTransferred("agent-1", 8, false, 0, Double.NaN, KvTransferOutcome.FAILED,
            "ncclRecv(bf16 x 8 from rank 0) failed"),
        new AgentReport.KvTransferred("agent-1", 9, false, 12, 0.5, KvTransferOutcome.DISCARDED,
            "the agent drained while the KV arrived"));
  }

  /** A 128-byte id with every byte value distinct from its neighbours, including 0 and 0xff. */
  private static byte[] kvId() {
    byte[] id = new byte[128];
    for (int i = 0; i < id.length; i++) id[i] = (byte) (i * 37 + 255);
    return id;
  }

  @Test
  void kvMessagesKeepTheGroupIdBytesAndThePrefillOnlyFlag() throws Exception {
    ProtocolSerializer s = serializer();
    var join = new AgentCommand.JoinKvGroup(kvId(), 1, 2, List.of(0), "graph", 5000, coordinatorRef);
    var back = (AgentCommand.JoinKvGroup) s.fromBinary(s.toBinary(join), s.manifest(join));
    assertArrayEquals(kvId(), back.id());
    assertEquals(List.of(0), back.peers());
    var start = new AgentCommand.StartSequences(List.of(new SequenceSpec(3, new int[] {1}, 5, true)));
    var startBack = (AgentCommand.StartSequences) s.fromBinary(s.toBinary(start), s.manifest(start));
    assertEquals(true, startBack.sequences().get(0).prefillOnly());
    var receive = new AgentCommand.ReceiveKv(2, new int[] {9, 8}, new int[] {7}, 10, 2, 0);
    var receiveBack = (AgentCommand.ReceiveKv) s.fromBinary(s.toBinary(receive), s.manifest(receive));
    assertArrayEquals(new int[] {7}, receiveBack.outputTokens());
    assertEquals(2, receiveBack.numComputedTokens());
  }

  @Test
  void unknownTransferOutcomeIsRefusedNotGuessed() {
    byte[] bytes = io.decodefleet.protocol.cluster.KvTransferred.newBuilder().setAgentId("a").setOutcomeValue(9)
        .build().toByteArray();
    assertThrows(NotSerializableException.class, () -> serializer().fromBinary(bytes, "KvTransferred"));
  }

  @ParameterizedTest
  @MethodSource("messages")
  void roundTripsThroughTheBoundSerializer(ProtocolMessage msg) throws Exception {
    Serializer found = serialization.findSerializerFor(msg);
    ProtocolSerializer serializer = assertInstanceOf(ProtocolSerializer.class, found,
        "the ProtocolMessage binding must pick ProtocolSerializer for " + msg.getClass().getName());
    assertEquals(ProtocolSerializer.IDENTIFIER, serializer.identifier());

    byte[] bytes = serializer.toBinary(msg);
    String manifest = serializer.manifest(msg);
    Object back = serialization.deserialize(bytes, serializer.identifier(), manifest).get();
    assertNotSame(msg, back);
    assertEquals(msg, back);
    assertEquals(msg.getClass(), back.getClass());
    // And again straight through the serializer.
    assertEquals(msg, serializer.fromBinary(bytes, manifest));
  }

  @Test
  void actorRefsResolveToTheSameRef() throws Exception {
    ProtocolSerializer s = serializer();
    var reg = AgentReportFixtures.registered("a", agentRef, "n", "d", "cpu");
    var back = (AgentReport.Registered) s.fromBinary(s.toBinary(reg), s.manifest(reg));
    assertEquals(agentRef, back.agent());
    assertEquals(agentRef.path(), back.agent().path());
  }

  @Test
  void stepReportKeepsTokenArraysAndVerifyDetails() throws Exception {
    ProtocolSerializer s = serializer();
    var report = (AgentReport.StepReport) messages().filter(m -> m instanceof AgentReport.StepReport).findFirst()
        .orElseThrow();
    var back = (AgentReport.StepReport) s.fromBinary(s.toBinary(report), s.manifest(report));
    assertArrayEquals(new int[] {6, 7, 8}, back.tokens().get(1).tokens());
    assertEquals(report.finished().get(2).verify(), back.finished().get(2).verify());
    assertEquals(0.5, back.finished().get(2).verify().maxRelError());
  }

  @Test
  void unknownManifestRaisesNotSerializableException() {
    ProtocolSerializer s = serializer();
    assertThrows(NotSerializableException.class, () -> s.fromBinary(new byte[0], "NoSuchMessage"));
    assertThrows(NotSerializableException.class,
        () -> serialization.deserialize(new byte[0], ProtocolSerializer.IDENTIFIER, "NoSuchMessage").get());
  }

  @Test
  void corruptBytesRaiseNotSerializableException() {
    ProtocolSerializer s = serializer();
    assertThrows(NotSerializableException.class, () -> s.fromBinary(new byte[] {(byte) 0xff, (byte) 0xff}, "Drained"));
  }

  @Test
  void manifestRejectsNonProtocolObjects() {
    ProtocolSerializer s = serializer();
    assertThrows(IllegalArgumentException.class, () -> s.manifest("not a message"));
  }

  private static ProtocolSerializer serializer() {
    return assertInstanceOf(ProtocolSerializer.class,
        serialization.serializerByIdentity().apply(ProtocolSerializer.IDENTIFIER));
  }

  @Test
  void manifestsAreDistinctPerMessageType() {
    var manifests = messages().map(m -> ((SerializerWithStringManifest) serializer()).manifest(m)).distinct().count();
    var types = messages().map(Object::getClass).distinct().count();
    assertEquals(types, manifests);
  }
}
