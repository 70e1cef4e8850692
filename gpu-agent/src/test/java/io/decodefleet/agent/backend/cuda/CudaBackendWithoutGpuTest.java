package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.driver.CudaDriver;
import io.decodefleet.agent.backend.cuda.driver.CudaException;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.MoeConfig;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;

/** Where there is no CUDA device, making a CUDA backend fails at once with one line saying why. */
class CudaBackendWithoutGpuTest {

  private static final GpuInfo H200 =
      new GpuInfo(0, "NVIDIA H200", 9, 0, 132, 150L << 30, 60 << 20, 232448, 3201000, 6144);

  @Test
  void openingDeviceZeroFailsWithACudaExceptionNamingTheCause() {
    assumeFalse(CudaDevices.discover().hasDevices(), "this machine has a CUDA device");
    CudaException e = assertThrows(CudaException.class, () -> CudaBackend.open(0, CudaSettings.defaults()));
    assertTrue(e.getMessage().startsWith("cannot start the CUDA backend on GPU 0: no CUDA device: "), e.getMessage());
    assertTrue(e.getMessage().length() > "cannot start the CUDA backend on GPU 0: no CUDA device: ".length() + 5,
        "the cause is named: " + e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line");
    assertEquals(CUresult.CUDA_ERROR_NO_DEVICE, e.code());
  }

  @Test
  void constructingOnADescribedGpuWithoutADriverFailsTheSameWay() {
    assumeFalse(CudaDriver.isAvailable(), "this machine has a CUDA driver");
    CudaException e = assertThrows(CudaException.class, () -> new CudaBackend(H200, CudaSettings.defaults()));
    assertTrue(e.getMessage().startsWith("cannot start the CUDA backend on GPU 0: no CUDA device: "
        + CudaDriver.unavailabilityCause()), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line");
  }

  /** Checked before any weight reaches a device, so this holds on a GPU host too. */
  @Test
  void mixturesOfExpertsPassTheShapeCheckWhereTheMoeKernelsTakeThemAndAreRefusedInOneLineElsewhere() {
    LayerStack.checkShapes(ModelConfig.preset("tiny-moe"));
    LayerStack.checkShapes(ModelConfig.preset("mixtral-8x7b"));
    // q/k norms run inside the RoPE + KV-append kernel: Qwen3-MoE's shapes are taken.
    LayerStack.checkShapes(ModelConfig.preset("qwen3-30b-a3b"));
    LayerStack.checkShapes(ModelConfig.preset("tiny-qwen3"));
    LayerStack.checkShapes(ModelConfig.preset("tiny-qwen3-moe"));
    ModelConfig manyHeads = new ModelConfig("many-heads", 8192, 512, 256, 8, 1, 1024, 10000.0, 1e-6f, 32, 2048,
        false, false, true, null);
    IllegalArgumentException qkNorm = assertThrows(IllegalArgumentException.class,
        () -> LayerStack.checkShapes(manyHeads));
    assertEquals("model many-heads cannot run on the CUDA backend: 256 query and 8 key/value heads: the q/k norms"
        + " take at most 256 heads together", qkNorm.getMessage());
    ModelConfig wide = new ModelConfig("wide-moe", 128, 96, 4, 2, 2, 1024, 10000.0, 1e-5f, 32, 2048, false, false,
        false, new MoeConfig(512, 2, 100, true));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LayerStack.checkShapes(wide));
    assertEquals("model wide-moe cannot run on the CUDA backend: 512 experts, 2 per token: the MoE kernels take at"
        + " most 256 experts and 32 per token; moe_intermediate_size 100 must be a multiple of 8", e.getMessage());
    assertEquals("the CUDA backend holds a mixture of experts' experts in bf16 only (no FP8 experts yet; the CPU"
        + " backend has them)", DeviceWeights.unsupported(ModelLoad.dummy(ModelConfig.preset("tiny-moe"), 1)
            .with(ModelSpec.Quantization.FP8, ModelSpec.KvCacheDtype.AUTO)).orElseThrow());
  }
}
