package io.decodefleet.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.LocalDevices;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.tp.Parallelism;
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
 * The ep=K layout on agents as a daemon started with {@code --expert-parallel K} makes them, on a real
 * loopback cluster: one single-device CPU agent, one tensor-parallel group of two CPU ranks and one
 * expert-parallel group of two. Both groups span two devices; the coordinator loads each layout on
 * the agents that split the way it asks only, and all three give the same tokens of a mixture of experts.
 */
class ExpertParallelClusterTest {
  private static final ModelSpec MODEL = new ModelSpec("tiny-moe", 11, 16, 0, 8, 64, 0.0);
  private static final long KV_BYTES = 8L << 20;
  private static EmbeddedCluster cluster;

  @BeforeAll
  static void start() {
    LocalDevices.Choice cpu = new LocalDevices.Choice("cpu", List.of(), "test");
    cluster = EmbeddedCluster.start(3, ConfigFactory.empty(), i -> switch (i) {
      case 0 -> cpu.slot("agent-0", 0, null, KV_BYTES);
      case 1 -> cpu.groupSlot("agent-1", 0, 2, Parallelism.TENSOR, null, KV_BYTES);
      default -> cpu.groupSlot("agent-2", 1, 2, Parallelism.EXPERT, null, KV_BYTES);
    });
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static RunOutcome run(int worldSize, List<RequestSpec> requests, ParallelLayout layout, Duration agentTimeout)
      throws Exception {
    BenchmarkSpec spec = new BenchmarkSpec(worldSize, MODEL, requests, "least-loaded", 0, agentTimeout, layout);
    return AskPattern.<Coordinator.Command, RunOutcome>ask(cluster.coordinator(),
        replyTo -> new Coordinator.RunBenchmark(spec, null, replyTo), Duration.ofMinutes(2),
        cluster.coordinatorSystem().scheduler()).toCompletableFuture().get(2, TimeUnit.MINUTES);
  }

  @Test
  void eachLayoutLoadsOnTheAgentsThatSplitItsWayAndAllGiveTheSameTokens() throws Exception {
    List<RequestSpec> requests = WorkloadGenerator.generate(6, new ArrivalProcess.AllAtOnce(),
        new LengthDistribution.Uniform(5, 40), new LengthDistribution.Uniform(1, 16), 1024, 2048, 5);
    RunOutcome dp = run(1, requests, ParallelLayout.DATA_PARALLEL, Duration.ofSeconds(60));
    RunOutcome ep = run(1, requests, new ParallelLayout.ExpertParallel(2), Duration.ofSeconds(60));
    RunOutcome tp = run(1, requests, new ParallelLayout.TensorParallel(2), Duration.ofSeconds(60));

    for (RunOutcome o : List.of(dp, ep, tp)) assertTrue(o.succeeded(), o.error() + " " + o.result());
    assertEquals(List.of("agent-0"), dp.agents().stream().map(AgentDescription::agentId).toList());
    // agent-1 spans two devices too, and sorts first: only the way it splits keeps it out of ep=2.
    assertEquals(List.of("agent-2"), ep.agents().stream().map(AgentDescription::agentId).toList());
    assertTrue(ep.agents().get(0).device().startsWith("expert-parallel x2 over cpu rank 0 + cpu rank 1"),
        ep.agents().toString());
    assertEquals(List.of("agent-1"), tp.agents().stream().map(AgentDescription::agentId).toList());
    for (RequestSpec r : requests) {
      assertArrayEquals(dp.outputTokens().get(r.requestId()), ep.outputTokens().get(r.requestId()),
          "request " + r.requestId() + " on ep=2");
      assertArrayEquals(dp.outputTokens().get(r.requestId()), tp.outputTokens().get(r.requestId()),
          "request " + r.requestId() + " on tp=2");
    }
  }

  @Test
  void tooFewExpertParallelAgentsFailTheLoadNamingTheDaemonFlag() throws Exception {
    RunOutcome ep = run(2, List.of(new RequestSpec(0, 0, new int[] {1, 2, 3}, 2)), new ParallelLayout.ExpertParallel(2),
        Duration.ofSeconds(3));
    assertTrue(ep.error() != null && ep.error().contains("only 1 of 2 agents of 2 GPUs (gpu-agent --expert-parallel 2)"
        + " joined"), String.valueOf(ep.error()));
  }
}
