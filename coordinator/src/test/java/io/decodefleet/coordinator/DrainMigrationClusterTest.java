package io.decodefleet.coordinator;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.NodeGuardian;
import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.kv.KvTransferHistory;
import io.decodefleet.coordinator.kv.KvTransferRecord;
import io.decodefleet.coordinator.node.EmbeddedCluster;
import io.decodefleet.coordinator.run.BenchmarkSpec;
import io.decodefleet.coordinator.run.RunOutcome;
import io.decodefleet.coordinator.workload.ArrivalProcess;
import io.decodefleet.coordinator.workload.LengthDistribution;
import io.decodefleet.coordinator.workload.RequestSpec;
import io.decodefleet.coordinator.workload.WorkloadGenerator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;

/**
 * A data-parallel fleet of CPU agents on a real loopback cluster; one agent's node is drained as
 * SIGTERM drains it (NodeGuardian.DrainAll) while its sequences decode, then stopped. With the
 * fleet's KV-transfer group, its decoding sequences move to the survivor with their KV and decode
 * on from it; without one, they are re-prefilled. Either way every stream gets exactly the tokens
 * of an undrained run.
 */
class DrainMigrationClusterTest {
  // Prefix caching on: the drained run repeats the reference run's prompts on the same cluster, so
  // the sequences that move hold blocks shared with the cache, and must still keep their tokens.
  private static final ModelSpec MODEL = new ModelSpec("tiny", 13, 16, 0, 8, 64, 0.0, ModelSpec.PrefixCaching.ON);
  private static final Duration WAIT = Duration.ofSeconds(60);

  /** What a drained run saw. */
  private record Drained(Map<Long, int[]> tokens, Map<Long, String> failures, Set<Long> movedWithKv,
      ClusterSnapshot state) {}

  private static List<RequestSpec> workload() {
    // Outputs long enough that the drain finds sequences in the middle of their decode.
    return WorkloadGenerator.generate(10, new ArrivalProcess.AllAtOnce(), new LengthDistribution.Uniform(5, 40),
        new LengthDistribution.Uniform(60, 90), 1024, 2048, 17);
  }

  private static ClusterSnapshot state(EmbeddedCluster on) throws Exception {
    return AskPattern.<Coordinator.Command, ClusterSnapshot>ask(on.coordinator(), Coordinator.GetClusterState::new,
        Duration.ofSeconds(10), on.coordinatorSystem().scheduler()).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static RunOutcome undrained(EmbeddedCluster on, List<RequestSpec> requests) throws Exception {
    BenchmarkSpec spec = new BenchmarkSpec(2, MODEL, requests, "least-loaded", 0, WAIT, ParallelLayout.DATA_PARALLEL);
    RunOutcome outcome = AskPattern.<Coordinator.Command, RunOutcome>ask(on.coordinator(),
        replyTo -> new Coordinator.RunBenchmark(spec, null, replyTo), Duration.ofMinutes(2),
        on.coordinatorSystem().scheduler()).toCompletableFuture().get(2, TimeUnit.MINUTES);
    assertTrue(outcome.succeeded(), outcome.error());
    return outcome;
  }

  /**
   * Submits {@code requests} to the loaded fleet and, once agent-0 has streamed a few tokens,
   * drains its node as SIGTERM does and stops the node when the drain is done.
   */
  private static Drained runDrainingAgent0(EmbeddedCluster on, List<RequestSpec> requests) throws Exception {
    Map<Long, int[]> tokens = new ConcurrentHashMap<>();
    Map<Long, String> failures = new ConcurrentHashMap<>();
    Set<Long> movedWithKv = ConcurrentHashMap.newKeySet();
    CountDownLatch over = new CountDownLatch(requests.size());
    AtomicBoolean drained = new AtomicBoolean();
    CountDownLatch nodeStopped = new CountDownLatch(1);
    var node = on.agentSystems().get(0);
    ActorRef<org.apache.pekko.Done> whenDrained = on.coordinatorSystem().systemActorOf(Behaviors.receiveMessage(d -> {
      node.terminate(); // SIGTERM: the daemon exits once its agents drained
      nodeStopped.countDown();
      return Behaviors.same();
    }), "drained", Props.empty());
    ActorRef<SequenceEvent> subscriber = on.coordinatorSystem().systemActorOf(Behaviors.receiveMessage(e -> {
      if (e instanceof SequenceEvent.Tokens t) {
        int[] sofar = tokens.merge(t.requestId(), t.tokens(), DrainMigrationClusterTest::concat);
        if (t.agentId().equals("agent-0") && sofar.length >= 8 && drained.compareAndSet(false, true)) {
          node.tell(new NodeGuardian.DrainAll(whenDrained));
        }
      } else if (e instanceof SequenceEvent.Migrated m && m.cause().endsWith("KV moved")) {
        movedWithKv.add(m.requestId());
      } else if (e instanceof SequenceEvent.Finished) {
        over.countDown();
      } else if (e instanceof SequenceEvent.Failed f) {
        failures.put(f.requestId(), f.reason());
        over.countDown();
      }
      return Behaviors.same();
    }), "subscriber", Props.empty());
    for (RequestSpec r : requests) {
      on.coordinator().tell(new Coordinator.Submit(r.requestId(), r.promptTokens(), r.maxTokens(), SamplingParams.GREEDY, 0, "least-loaded",
          subscriber));
    }
    assertTrue(over.await(60, TimeUnit.SECONDS), "requests still open: " + over.getCount());
    assertTrue(drained.get(), "agent-0 never streamed 8 tokens of one request");
    assertTrue(nodeStopped.await(30, TimeUnit.SECONDS), "the drained node never reported its drain done");
    return new Drained(tokens, failures, movedWithKv, state(on));
  }

  private static void awaitGroup(EmbeddedCluster on, String expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String group = null;
    while (System.nanoTime() < deadline) {
      KvTransferHistory kv = state(on).kvTransfers();
      group = kv == null ? null : kv.group();
      if (expected.equals(group)) return;
      Thread.sleep(50);
    }
    throw new AssertionError("the KV-transfer group is " + group + ", not " + expected);
  }

  @Test
  void drainedAgentsDecodingSequencesMoveWithTheirKvAndKeepExactlyTheirTokens() throws Exception {
    List<RequestSpec> requests = workload();
    EmbeddedCluster own = EmbeddedCluster.start(2, ConfigFactory.empty(), 8L << 20);
    try {
      RunOutcome reference = undrained(own, requests);
      awaitGroup(own, "ready");

      Drained run = runDrainingAgent0(own, requests);

      assertTrue(run.failures().isEmpty(), run.failures().toString());
      for (RequestSpec r : requests) {
        assertArrayEquals(reference.outputTokens().get(r.requestId()), run.tokens().get(r.requestId()),
            "request " + r.requestId());
      }
      ClusterSnapshot s = run.state();
      assertTrue(s.kvMigrations() >= 1, "no sequence moved with its KV: " + s.kvTransfers());
      assertEquals(run.movedWithKv().size(), s.kvMigrations(),
          "every sequence moved with its KV decoded from it on arrival, none re-prefilled there");
      List<KvTransferRecord> moves = s.kvTransfers().recent().stream().filter(KvTransferRecord::migration).toList();
      assertEquals(s.kvMigrations(), moves.size(), moves.toString());
      for (KvTransferRecord m : moves) {
        assertEquals("agent-0", m.fromAgent());
        assertEquals("agent-1", m.toAgent());
        assertTrue(!m.recomputed() && m.bytes() > 0 && m.receiveMillis() >= 0, m.toString());
      }
      assertTrue(s.migrations() >= s.kvMigrations(), "KV migrations are migrations too");
      assertTrue(s.agents().stream().mapToLong(io.decodefleet.coordinator.fleet.AgentSnapshot::prefixHitTokens).sum()
          > 0, "the repeated prompts were served from cached blocks");
    } finally {
      own.close();
    }
  }

  @Test
  void withoutAKvGroupADrainedAgentsSequencesAreReprefilledWithExactlyTheirTokens() throws Exception {
    List<RequestSpec> requests = workload();
    EmbeddedCluster own = EmbeddedCluster.start(2, ConfigFactory.empty(),
        i -> new NodeGuardian.DeviceSlot("agent-" + i, "cpu slot " + i, "cpu", KvlessCpuBackend::new));
    try {
      RunOutcome reference = undrained(own, requests);
      assertNull(state(own).kvTransfers(), "backends that cannot move KV form no group");

      Drained run = runDrainingAgent0(own, requests);

      assertTrue(run.failures().isEmpty(), run.failures().toString());
      for (RequestSpec r : requests) {
        assertArrayEquals(reference.outputTokens().get(r.requestId()), run.tokens().get(r.requestId()),
            "request " + r.requestId());
      }
      assertTrue(run.state().migrations() >= 1, "agent-0's sequences were re-placed");
      assertEquals(0, run.state().kvMigrations());
      assertTrue(run.movedWithKv().isEmpty(), run.movedWithKv().toString());
    } finally {
      own.close();
    }
  }

  /** The CPU backend, saying it cannot move KV pages (as a backend without a transport does). */
  private static final class KvlessCpuBackend implements Backend {
    private final CpuBackend cpu = new CpuBackend(8L << 20);

    @Override
    public String name() {
      return cpu.name();
    }

    @Override
    public String deviceDescription() {
      return cpu.deviceDescription();
    }

    @Override
    public void loadModel(io.decodefleet.agent.engine.ModelLoad load) {
      cpu.loadModel(load);
    }

    @Override
    public int kvBlockCapacity(int blockSize) {
      return cpu.kvBlockCapacity(blockSize);
    }

    @Override
    public void allocateKvCache(int numBlocks, int blockSize) {
      cpu.allocateKvCache(numBlocks, blockSize);
    }

    @Override
    public float[] forward(ForwardBatch batch) {
      return cpu.forward(batch);
    }

    @Override
    public int[] forwardGreedy(ForwardBatch batch) {
      return cpu.forwardGreedy(batch);
    }

    @Override
    public float[] forwardWithoutCache(int[] tokens) {
      return cpu.forwardWithoutCache(tokens);
    }

    @Override
    public Optional<String> kvTransferUnsupported() {
      return Optional.of("this backend moves no KV pages");
    }

    @Override
    public void close() {
      cpu.close();
    }
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
