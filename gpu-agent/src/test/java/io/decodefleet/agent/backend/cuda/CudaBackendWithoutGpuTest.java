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
  void mixtureOfExpertsModelsAreRefusedWithOneLineUntilTheirKernelsExist() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LayerStack.checkShapes(io.decodefleet.agent.engine.ModelConfig.preset("mixtral-8x7b")));
    assertEquals("model mixtral-8x7b: MoE models run on the CPU backend only; CUDA kernels not yet built",
        e.getMessage());
  }
}
