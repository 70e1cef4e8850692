package io.decodefleet.agent.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.kv.CudaKvGroupMember;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.nccl.Nccl;
import io.decodefleet.kernels.cuda.Fatbin;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@link CudaKvGroupMember} between GPU 0 and GPU 1 through the bench's path: both modes, page
 * counts that are not powers of two, a context shorter than a block, and a Llama-3-8B-wide KV.
 * Skipped (an assumption, not a failure) without two CUDA devices, the fatbin or NCCL.
 */
@Tag("gpu")
class KvTransferBenchGpuTest {

  private List<GpuInfo> gpus;

  @BeforeEach
  void needsTwoGpusAndNccl() {
    CudaDevices.Discovery d = CudaDevices.discover();
    assumeTrue(d.hasDevices(), d::noDeviceLine);
    assumeTrue(d.gpus().size() >= 2, "needs 2 GPUs, this machine has " + d.gpus().size());
    assumeTrue(Fatbin.isPresent(), Fatbin::absenceReason);
    assumeTrue(Nccl.isAvailable(), Nccl::unavailabilityCause);
    gpus = d.gpus();
  }

  @Test
  void everyVariantMovesThePagesExactlyAndIsTimed() {
    KvTransferBench.Settings s = new KvTransferBench.Settings(ModelConfig.preset("llama3-8b-2l"), List.of(1, 100, 1000),
        16, 1, 3, Duration.ofSeconds(60));
    List<KvTransferBench.Row> rows = KvTransferBench.run(gpus.get(0), gpus.get(1), s);

    assertEquals(3, rows.size());
    for (KvTransferBench.Row r : rows) {
      for (KvTransferBench.Timing t : List.of(r.eager(), r.graph(), r.ncclOnly())) {
        assertNull(t.failure(), r.context() + " tokens: " + t.failure());
        assertTrue(t.verified(), r.context() + " tokens: pages differ");
        assertTrue(t.ms() > 0 && t.ms() < 1000, r.context() + " tokens: " + t);
      }
    }
    assertEquals(2L * 2 * 2 * 16 * ModelConfig.preset("llama3-8b-2l").kvSize() * 63, rows.get(2).bytes(),
        "1000 tokens are 63 blocks of 16, 2 layers, K and V, bf16");
  }
}
