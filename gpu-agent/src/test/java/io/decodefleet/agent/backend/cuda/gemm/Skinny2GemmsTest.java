package io.decodefleet.agent.backend.cuda.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.driver.TensorMaps;
import io.decodefleet.agent.tools.selfcheck.KernelFamily;
import org.junit.jupiter.api.Test;

/** Where our second skinny GEMM can run: wherever the tensor-map shim is loaded, on any device. */
class Skinny2GemmsTest {

  private static GpuInfo gpu(String name, int major, int minor) {
    return new GpuInfo(0, name, major, minor, 132, 141L << 30, 60 << 20, 232448, 3_201_000, 6144);
  }

  @Test
  void onlyTheTensorMapShimCanStandInTheWayAndTheCauseSaysSoInOneLine() {
    String cause = Skinny2Gemms.unavailabilityCause();
    if (TensorMaps.isAvailable()) {
      assertEquals("", cause);
    } else {
      assertEquals("ours:skinny2 reads its weights through a tensor map; " + TensorMaps.unavailabilityCause(), cause);
      assertFalse(cause.contains("\n"), cause);
    }
  }

  @Test
  void theSelfTestFamilyIsSkippedForTheSameCauseOnEveryDevice() {
    for (GpuInfo g : new GpuInfo[] {gpu("NVIDIA H200", 9, 0), gpu("NVIDIA B200", 10, 0)}) {
      assertEquals(Skinny2Gemms.unavailabilityCause(), KernelFamily.SKINNY2_GEMM.unavailabilityCause(g), g.label());
      assertEquals(Skinny2Gemms.unavailabilityCause(), KernelFamily.SKINNY2_GEMM_FP8.unavailabilityCause(g),
          g.label());
    }
    assertEquals("", KernelFamily.SKINNY_GEMM.unavailabilityCause(gpu("NVIDIA H200", 9, 0)), "the first kernel needs no map");
  }

  @Test
  void onlySixteenByteAlignedOperandsAreCopied() {
    assertTrue(Skinny2Gemms.aligned(0x7f00_0000_0100L, 0x7f00_0000_0010L));
    assertFalse(Skinny2Gemms.aligned(0x7f00_0000_0108L, 0x7f00_0000_0000L));
    assertFalse(Skinny2Gemms.aligned(0x7f00_0000_0000L, 0x7f00_0000_0002L));
  }
}
