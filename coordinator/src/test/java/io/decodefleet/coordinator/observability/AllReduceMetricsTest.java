package io.decodefleet.coordinator.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.LocalDevices;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.fleet.ParallelLayout;
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
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.junit.jupiter.api.Test;

/**
 * The all-reduce metrics of a real loopback cluster: agent-0 a single CPU device, agent-1 a
 * tensor-parallel group of two CPU ranks (in-process all-reduce) whose node serves {@code /metrics}
 * on its management port, as a gpu-agent daemon does. The tp=2 run's all-reduce bytes, on both the
 * coordinator's and the agent's endpoint, are exactly what the model's shape and the tokens the
 * requests fed through the model say; the single device reports none.
 */
class AllReduceMetricsTest {
  private static final ModelSpec SPEC =
      new ModelSpec("tiny", 11, 16, 0, 8, 64, 0.0, ModelSpec.PrefixCaching.OFF, 3);

  @Test
  void aTensorParallelAgentCountsItsAllReducesAndASingleDeviceNone() throws Exception {
    int managementPort = MetricsFleet.freePort();
    LocalDevices.Choice cpu = new LocalDevices.Choice("cpu", List.of(), "test");
    try (EmbeddedCluster cluster = EmbeddedCluster.start(2,
        ConfigFactory.parseMap(Map.of("pekko.management.http.port", managementPort)),
        i -> i == 0 ? cpu.slot("agent-0", 0, null, 8L << 20) : cpu.groupSlot("agent-1", 0, 2, null, 8L << 20))) {
      ServerBinding coordinatorMetrics = cluster.metrics().serve(cluster.system(), "127.0.0.1", 0);
      PekkoManagement.get(cluster.agentSystems().get(1)).start().toCompletableFuture().get(30, TimeUnit.SECONDS);
      List<RequestSpec> requests = WorkloadGenerator.generate(6, new ArrivalProcess.AllAtOnce(),
          new LengthDistribution.Uniform(5, 40), new LengthDistribution.Uniform(3, 12), 1024, 2048, 3);
      RunOutcome single = run(cluster, requests, ParallelLayout.DATA_PARALLEL);
      RunOutcome tp = run(cluster, requests, new ParallelLayout.TensorParallel(2));
      assertEquals("agent-0", single.agents().get(0).agentId());
      assertEquals("agent-1", tp.agents().get(0).agentId());

      // Each request's prompt goes through the model once, then every output token but the last.
      long tokens = 0;
      int longestOutput = 0;
      for (RequestSpec r : requests) {
        int output = tp.outputTokens().get(r.requestId()).length;
        tokens += r.promptTokens().length + output - 1;
        longestOutput = Math.max(longestOutput, output);
      }
      ModelConfig tiny = ModelConfig.preset("tiny");
      long perStep = 2L * tiny.numHiddenLayers();
      double expectedBytes = (double) perStep * tokens * tiny.hiddenSize() * 4;

      Exposition coordinator = new Exposition(MetricsFleet.get(
          "http://127.0.0.1:" + coordinatorMetrics.localAddress().getPort() + "/metrics"));
      Exposition agent = new Exposition(MetricsFleet.get("http://127.0.0.1:" + managementPort + "/metrics"));
      coordinatorMetrics.unbind();
      for (Exposition e : List.of(coordinator, agent)) {
        assertEquals(0, e.sum("vllm:num_preemptions_total", "agent=agent-1")); // no token fed twice
        assertEquals(expectedBytes, e.value("decodefleet_all_reduce_bytes_total", "agent=agent-1"));
        double ops = e.value("decodefleet_all_reduces_total", "agent=agent-1");
        assertEquals(0, ops % perStep, "two all-reduces per layer per step: " + ops);
        assertTrue(ops >= perStep * longestOutput, "a step per output token at least: " + ops);
        double seconds = e.value("decodefleet_all_reduce_seconds_total", "agent=agent-1");
        assertTrue(seconds > 0, "the profiled steps' all-reduce time: " + seconds);
      }
      for (String family : List.of("decodefleet_all_reduce_bytes_total", "decodefleet_all_reduces_total",
          "decodefleet_all_reduce_seconds_total")) {
        assertEquals(List.of(), coordinator.values(family, "agent=agent-0"), family + " of a single device");
      }
      assertTrue(coordinator.sum("decodefleet_steps_total", "agent=agent-0") > 0, "agent-0 did step");
    }
  }

  private static RunOutcome run(EmbeddedCluster cluster, List<RequestSpec> requests, ParallelLayout layout)
      throws Exception {
    BenchmarkSpec spec = new BenchmarkSpec(1, SPEC, requests, "least-loaded", 0, Duration.ofSeconds(60), layout);
    RunOutcome outcome = AskPattern.<Coordinator.Command, RunOutcome>ask(cluster.coordinator(),
        replyTo -> new Coordinator.RunBenchmark(spec, null, replyTo), Duration.ofMinutes(2),
        cluster.system().scheduler()).toCompletableFuture().get(2, TimeUnit.MINUTES);
    assertTrue(outcome.succeeded(), outcome.error() + " " + outcome.result());
    return outcome;
  }
}
