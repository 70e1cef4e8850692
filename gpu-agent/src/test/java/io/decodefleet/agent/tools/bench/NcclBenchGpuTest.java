package io.decodefleet.agent.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.nccl.Nccl;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The NCCL bench between GPUs 0 and 1. Skipped (an assumption, not a failure) without NCCL or
 * without two GPUs.
 */
@Tag("gpu")
class NcclBenchGpuTest {

  private List<GpuInfo> gpus;

  @BeforeEach
  void needsNcclAndTwoGpus() {
    assumeTrue(Nccl.isAvailable(), Nccl::unavailabilityCause);
    CudaDevices.Discovery d = CudaDevices.discover();
    assumeTrue(d.gpus().size() >= 2, () -> "needs 2 GPUs: " + d.gpus().size() + " " + d.reason());
    gpus = d.gpus().subList(0, 2);
  }

  @Test
  void theBenchMeasuresEveryPointOfASmallRun() {
    List<NcclBenchPoint> points = NcclBench.run(gpus,
        new NcclBench.Settings(List.of(4096L, 1L << 20), 1, 3, Duration.ofSeconds(60)), p -> { });
    assertEquals(6, points.size(), "send/recv, bf16 and fp32 all-reduce, at 2 sizes");
    for (NcclBenchPoint p : points) {
      assertTrue(p.timeUs() > 0 && p.algbwGbps() > 0, p.toJson());
      assertEquals(p.algbwGbps(), p.busbwGbps(), 1e-9, "2 ranks: busbw = algbw");
    }
  }
}
