package io.decodefleet.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.LocalDevices;
import io.decodefleet.agent.backend.cuda.CudaSettings;
import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.agent.nccl.Nccl;
import io.decodefleet.coordinator.fleet.ParallelLayout;
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
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The disaggregated layout on two local GPUs, embedded cluster, CUDA agents, NCCL: with one
 * request at a time (so every decode step is a batch of one on both layouts), the tokens equal a
 * data-parallel run's exactly, every sequence's decode passes the recompute check, and every
 * hand-off is logged with its bytes and time. Skipped without two GPUs, the fatbin or NCCL.
 */
@Tag("gpu")
class DisaggregatedClusterGpuTest {

  @ParameterizedTest
  @EnumSource(KvTransferMode.class)
  void disaggregatedTokensEqualDataParallelOnTwoGpus(KvTransferMode mode) throws Exception {
    CudaDevices.Discovery d = CudaDevices.discover();
    assumeTrue(d.hasDevices() && d.gpus().size() >= 2, "needs 2 GPUs");
    assumeTrue(Nccl.isAvailable(), Nccl::unavailabilityCause);
    LocalDevices.Choice devices = LocalDevices.forEmbedded("cuda", 2, d);
    CudaSettings cuda = CudaSettings.defaults().withMaxGraphBatch(8).withGpuMemoryFraction(0.5);
    List<RequestSpec> requests = WorkloadGenerator.generate(6, new ArrivalProcess.AllAtOnce(),
        new LengthDistribution.Uniform(17, 300), new LengthDistribution.Uniform(2, 24), 128256, 4096, 3);
    EmbeddedCluster cluster = EmbeddedCluster.start(2, ConfigFactory.empty(),
        i -> devices.slot("agent-" + i, i, cuda, 0));
    try {
      RunOutcome dp = run(cluster, new BenchmarkSpec(2, model(0.0), requests, "least-loaded", 1,
          Duration.ofSeconds(120), ParallelLayout.DATA_PARALLEL));
      RunOutcome pd = run(cluster, new BenchmarkSpec(2, model(1.0), requests, "least-loaded", 1,
          Duration.ofSeconds(120), new ParallelLayout.Disaggregated(1, 1, mode)));

      assertTrue(dp.succeeded(), dp.error() + " " + dp.result());
      assertTrue(pd.succeeded(), pd.error() + " " + pd.verification());
      for (RequestSpec r : requests) {
        assertArrayEquals(dp.outputTokens().get(r.requestId()), pd.outputTokens().get(r.requestId()),
            mode + ": request " + r.requestId());
      }
      KvTransferSummary kv = pd.engine().kvTransfers();
      assertEquals("ready", kv.group(), kv.toString());
      assertEquals(mode.label(), kv.mode());
      assertEquals((int) requests.stream().filter(r -> r.maxTokens() > 1).count(), kv.count(), kv.toString());
      assertTrue(kv.meanMs() > 0, kv.toString());
    } finally {
      cluster.close();
    }
  }

  private static ModelSpec model(double verify) {
    return new ModelSpec("llama3-8b-2l", 5, 16, 2048, 8, 512, verify);
  }

  private static RunOutcome run(EmbeddedCluster cluster, BenchmarkSpec spec) throws Exception {
    return AskPattern.<Coordinator.Command, RunOutcome>ask(cluster.coordinator(),
        r -> new Coordinator.RunBenchmark(spec, null, r), Duration.ofMinutes(5),
        cluster.coordinatorSystem().scheduler()).toCompletableFuture().get(5, TimeUnit.MINUTES);
  }
}
