package io.decodefleet.coordinator;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.kv.KvTransferHistory;
import io.decodefleet.coordinator.metrics.KvTransferSummary;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The disaggregated layout end to end on a real loopback cluster of CPU agents, whose KV moves
 * through the CPU backend's in-process exchange (the coordinator and the agents run the same
 * protocol as with CUDA agents and NCCL): prefill agents stream each sequence's first token,
 * decode agents the rest, and the tokens equal a data-parallel run's.
 */
class DisaggregatedClusterTest {
  private static final int AGENTS = 3;
  private static final ModelSpec MODEL = new ModelSpec("tiny", 11, 16, 0, 8, 64, 0.0);
  private static EmbeddedCluster cluster;

  @BeforeAll
  static void start() {
    cluster = EmbeddedCluster.start(AGENTS, ConfigFactory.empty(), 8L << 20);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static RunOutcome run(EmbeddedCluster on, BenchmarkSpec spec) throws Exception {
    return AskPattern.<Coordinator.Command, RunOutcome>ask(on.coordinator(),
        replyTo -> new Coordinator.RunBenchmark(spec, null, replyTo), Duration.ofMinutes(2),
        on.coordinatorSystem().scheduler()).toCompletableFuture().get(2, TimeUnit.MINUTES);
  }

  private static BenchmarkSpec spec(int worldSize, ModelSpec model, List<RequestSpec> requests, ParallelLayout layout) {
    return new BenchmarkSpec(worldSize, model, requests, "least-loaded", 0, Duration.ofSeconds(60), layout);
  }

  private static List<RequestSpec> workload(int n, long seed) {
    return workload(n, seed, 1, 20);
  }

  private static List<RequestSpec> workload(int n, long seed, int minOutput, int maxOutput) {
    return WorkloadGenerator.generate(n, new ArrivalProcess.AllAtOnce(), new LengthDistribution.Uniform(5, 70),
        new LengthDistribution.Uniform(minOutput, maxOutput), 1024, 2048, seed);
  }

  private static ParallelLayout disagg(int p, int d) {
    return new ParallelLayout.Disaggregated(p, d, KvTransferMode.EAGER);
  }

  private static KvTransferSummary transfers(RunOutcome outcome) {
    return outcome.engine().kvTransfers();
  }

  @Test
  void disaggregatedRunGivesTheTokensOfADataParallelRunAndLogsEveryHandoff() throws Exception {
    List<RequestSpec> requests = workload(14, 5);
    RunOutcome dp = run(cluster, spec(2, MODEL, requests, ParallelLayout.DATA_PARALLEL));
    RunOutcome pd = run(cluster, spec(2, MODEL, requests, disagg(1, 1)));

    assertTrue(dp.succeeded() && pd.succeeded(), pd.error() + " " + pd.result());
    for (RequestSpec r : requests) {
      assertArrayEquals(dp.outputTokens().get(r.requestId()), pd.outputTokens().get(r.requestId()),
          "request " + r.requestId());
    }
    KvTransferSummary dpKv = transfers(dp);
    assertEquals("dp", dpKv.layout(), "a data-parallel fleet of one process has a group for drains");
    assertEquals(0, dpKv.count(), "a data-parallel run without drains moves no KV");
    KvTransferSummary kv = transfers(pd);
    long handedOff = requests.stream().filter(r -> r.maxTokens() > 1).count();
    assertEquals((int) handedOff, kv.count(), kv.toString());
    assertEquals("ready", kv.group());
    assertEquals("disagg=1:1", kv.layout());
    assertTrue(kv.bytes() > 0, kv.toString());
    assertEquals(0L, pd.engine().migrations(), "hand-offs are not migrations");
    for (var r : pd.requests()) {
      assertTrue(r.ttftMs() > 0 && r.e2eMs() >= r.ttftMs(), r.toString());
    }
  }

  /** Agents block their engines while joining a group: a data-parallel fleet is ready only after. */
  @Test
  void dataParallelFleetIsReadyOnlyOnceItsKvGroupFormed() throws Exception {
    ModelSpec other = new ModelSpec("tiny", 12, 16, 0, 8, 64, 0.0); // a fresh load, not the loaded fleet
    Coordinator.FleetStatus status = AskPattern.<Coordinator.Command, Coordinator.FleetStatus>ask(
        cluster.coordinator(), r -> new Coordinator.LoadFleet(3, other, Duration.ofSeconds(60),
            ParallelLayout.DATA_PARALLEL, r), Duration.ofSeconds(70), cluster.coordinatorSystem().scheduler())
        .toCompletableFuture().get(70, TimeUnit.SECONDS);
    assertTrue(status instanceof Coordinator.FleetReady, status.toString());
    KvTransferHistory kv = ((Coordinator.FleetReady) status).state().kvTransfers();
    assertEquals("dp", kv.layout());
    assertEquals("ready", kv.group(), "the fleet reported ready while its group was still forming");
  }

  @Test
  void decodeSideRecomputeCheckPassesOnEverySequenceWithTwoPrefillAgents() throws Exception {
    List<RequestSpec> requests = workload(10, 8);
    ModelSpec verified = new ModelSpec("tiny", 11, 16, 0, 8, 64, 1.0);
    RunOutcome pd = run(cluster, spec(3, verified, requests, disagg(2, 1)));

    assertTrue(pd.succeeded(), pd.error() + " " + pd.verification());
    assertEquals(10, pd.verification().sequencesChecked());
    assertEquals(0, pd.verification().failures());
    assertEquals((int) requests.stream().filter(r -> r.maxTokens() > 1).count(), transfers(pd).count());
  }

  @Test
  void layoutAndWorldSizeMustAgree() throws Exception {
    RunOutcome outcome = run(cluster, spec(3, MODEL, workload(2, 1), disagg(1, 1)));
    assertEquals("layout disagg=1:1 needs a world size of 2, got 3", outcome.error());
  }

  /**
   * The decode agent's node is downed right after its first token: the group is aborted on the
   * survivor (its pending hand-offs fail instead of waiting), every sequence is re-placed on the
   * prefill agent, which decodes from then on, and every request still gets exactly its tokens.
   */
  @Test
  void lostDecodeAgentBreaksTheGroupAndNoRequestHangsOrLosesATokens() throws Exception {
    List<RequestSpec> requests = workload(12, 9, 60, 120); // long enough to be cut off mid-decode
    RunOutcome reference = run(cluster, spec(1, MODEL, requests, ParallelLayout.DATA_PARALLEL));
    EmbeddedCluster own = EmbeddedCluster.start(2, ConfigFactory.empty(), 8L << 20);
    try {
      Coordinator.FleetStatus status = AskPattern.<Coordinator.Command, Coordinator.FleetStatus>ask(own.coordinator(),
          r -> new Coordinator.LoadFleet(2, MODEL, Duration.ofSeconds(60), disagg(1, 1), r), Duration.ofSeconds(70),
          own.coordinatorSystem().scheduler()).toCompletableFuture().get(70, TimeUnit.SECONDS);
      assertTrue(status instanceof Coordinator.FleetReady, status.toString());

      Map<Long, int[]> tokens = new ConcurrentHashMap<>();
      Map<Long, String> failures = new ConcurrentHashMap<>();
      CountDownLatch over = new CountDownLatch(requests.size());
      AtomicBoolean killed = new AtomicBoolean();
      ActorRef<SequenceEvent> subscriber = own.coordinatorSystem().systemActorOf(Behaviors.receiveMessage(e -> {
        if (e instanceof SequenceEvent.Tokens t) {
          tokens.merge(t.requestId(), t.tokens(), DisaggregatedClusterTest::concat);
          if (t.agentId().equals("agent-1") && killed.compareAndSet(false, true)) {
            // As abrupt as a crash for the coordinator: the node is downed at once, its reports are dropped.
            var lost = org.apache.pekko.cluster.typed.Cluster.get(own.agentSystems().get(1)).selfMember().address();
            org.apache.pekko.cluster.typed.Cluster.get(own.coordinatorSystem()).manager()
                .tell(org.apache.pekko.cluster.typed.Down.apply(lost));
          }
        } else if (e instanceof SequenceEvent.Finished) {
          over.countDown();
        } else if (e instanceof SequenceEvent.Failed f) {
          failures.put(f.requestId(), f.reason());
          over.countDown();
        }
        return Behaviors.same();
      }), "subscriber", Props.empty());
      for (RequestSpec r : requests) {
        own.coordinator().tell(new Coordinator.Submit(r.requestId(), r.promptTokens(), r.maxTokens(), SamplingParams.GREEDY, 0,
            "least-loaded", subscriber));
      }
      assertTrue(over.await(90, TimeUnit.SECONDS), "requests still open: " + over.getCount());
      assertTrue(killed.get(), "the decode agent never produced a token");
      assertTrue(failures.isEmpty(), failures.toString());
      for (RequestSpec r : requests) {
        assertArrayEquals(reference.outputTokens().get(r.requestId()), tokens.get(r.requestId()),
            "request " + r.requestId());
      }
      ClusterSnapshot state = AskPattern.<Coordinator.Command, ClusterSnapshot>ask(own.coordinator(),
          Coordinator.GetClusterState::new, Duration.ofSeconds(10), own.coordinatorSystem().scheduler())
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertTrue(state.kvTransfers().group().startsWith("broken: agent agent-1 left"), state.kvTransfers().group());
    } finally {
      own.close();
    }
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
