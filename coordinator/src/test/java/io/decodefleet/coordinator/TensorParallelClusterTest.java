package io.decodefleet.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.LocalDevices;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.metrics.AgentDescription;
import io.decodefleet.coordinator.node.EmbeddedCluster;
import io.decodefleet.coordinator.run.BenchmarkSpec;
import io.decodefleet.coordinator.run.RunOutcome;
import io.decodefleet.coordinator.workload.ArrivalProcess;
import io.decodefleet.coordinator.workload.LengthDistribution;
import io.decodefleet.coordinator.workload.RequestSpec;
import io.decodefleet.coordinator.workload.WorkloadGenerator;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tp=K layout end to end on a real loopback cluster: two single-device CPU agents and two
 * agents whose replicas are tensor-parallel groups of two CPU ranks (in-process all-reduce). The
 * coordinator loads and places on the agents of the layout's K only, each group acting as one
 * replica, and the groups generate exactly the data-parallel agents' tokens.
 */
class TensorParallelClusterTest {
  private static final ModelSpec MODEL = new ModelSpec("tiny", 11, 16, 0, 8, 64, 0.0);
  private static final long KV_BYTES = 8L << 20;
  private static EmbeddedCluster cluster;

  @BeforeAll
  static void start() {
    LocalDevices.Choice cpu = new LocalDevices.Choice("cpu", List.of(), "test");
    cluster = EmbeddedCluster.start(4, ConfigFactory.empty(),
        i -> i < 2 ? cpu.slot("agent-" + i, i, null, KV_BYTES) : cpu.groupSlot("agent-" + i, i - 2, 2, null, KV_BYTES));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static RunOutcome run(int worldSize, ModelSpec model, List<RequestSpec> requests, ParallelLayout layout)
      throws Exception {
    return run(worldSize, model, requests, layout, Duration.ofSeconds(60));
  }

  private static RunOutcome run(int worldSize, ModelSpec model, List<RequestSpec> requests, ParallelLayout layout,
      Duration agentTimeout) throws Exception {
    BenchmarkSpec spec = new BenchmarkSpec(worldSize, model, requests, "least-loaded", 0, agentTimeout, layout);
    return AskPattern.<Coordinator.Command, RunOutcome>ask(cluster.coordinator(),
        replyTo -> new Coordinator.RunBenchmark(spec, null, replyTo), Duration.ofMinutes(2),
        cluster.coordinatorSystem().scheduler()).toCompletableFuture().get(2, TimeUnit.MINUTES);
  }

  private static List<RequestSpec> workload(int n, long seed) {
    return WorkloadGenerator.generate(n, new ArrivalProcess.AllAtOnce(), new LengthDistribution.Uniform(5, 70),
        new LengthDistribution.Uniform(1, 40), 1024, 2048, seed);
  }

  @Test
  void tensorParallelReplicasGenerateTheDataParallelTokensOnTheirOwnAgents() throws Exception {
    List<RequestSpec> requests = workload(12, 4);
    RunOutcome dp = run(2, MODEL, requests, ParallelLayout.DATA_PARALLEL);
    RunOutcome tp = run(2, MODEL, requests, new ParallelLayout.TensorParallel(2));

    assertTrue(dp.succeeded(), dp.error() + " " + dp.result());
    assertTrue(tp.succeeded(), tp.error() + " " + tp.result());
    for (RequestSpec r : requests) {
      assertArrayEquals(dp.outputTokens().get(r.requestId()), tp.outputTokens().get(r.requestId()),
          "request " + r.requestId());
    }
    List<String> dpAgents = dp.agents().stream().map(AgentDescription::agentId).toList();
    List<String> tpAgents = tp.agents().stream().map(AgentDescription::agentId).toList();
    assertEquals(List.of("agent-0", "agent-1"), dpAgents, dp.agents().toString());
    assertEquals(List.of("agent-2", "agent-3"), tpAgents, tp.agents().toString());
    for (AgentDescription a : tp.agents()) {
      assertTrue(a.device().startsWith("tensor-parallel x2 over cpu rank 0 + cpu rank 1"),
          a.toString());
    }
  }

  @Test
  void recomputeCheckPassesThroughTheAllReduces() throws Exception {
    List<RequestSpec> requests = workload(6, 8);
    RunOutcome tp = run(2, new ModelSpec("tiny", 11, 16, 0, 8, 64, 1.0), requests,
        new ParallelLayout.TensorParallel(2));

    assertTrue(tp.succeeded(), tp.error() + " " + tp.verification());
    assertEquals(6, tp.verification().sequencesChecked());
    assertEquals(0, tp.verification().failures());
  }

  @Test
  void aLayoutWithMoreGroupsThanJoinedFailsTheLoadNamingTheDaemonFlag() throws Exception {
    RunOutcome tp = run(3, MODEL, workload(2, 1), new ParallelLayout.TensorParallel(2), Duration.ofSeconds(3));
    assertTrue(tp.error() != null && tp.error().contains("of 2 GPUs (gpu-agent --tensor-parallel 2) joined"),
        String.valueOf(tp.error()));
  }
}
