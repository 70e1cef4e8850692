package io.decodefleet.agent.backend.cuda.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.decodefleet.kernels.cuda.Skinny2GemmPlan;
import io.decodefleet.kernels.cuda.TensorMap;
import io.decodefleet.kernels.cuda.WgmmaGemmParams;
import org.junit.jupiter.api.Test;

/**
 * The tensor-map binding: on a host without the CUDA driver (the CPU build host) it says why in one
 * line and refuses to encode; where the driver is present it encodes the wgmma GEMM's maps (the
 * driver checks them; no device is needed).
 */
class TensorMapsTest {

  @Test
  void aHostWithoutTheDriverSaysWhyInOneLineAndRefusesToEncode() {
    assumeFalse(TensorMaps.isAvailable(), "the CUDA driver is present here");
    String cause = TensorMaps.unavailabilityCause();
    assertFalse(cause.contains("\n"), cause);
    assertTrue(cause.startsWith("tensor maps are unavailable on "), cause);
    if (!cause.contains("shim is not in the jar")) { // the shim loaded: the driver was tried
      assertTrue(cause.contains(TensorMaps.DRIVER_LIBRARY + " not found by dlopen"), cause);
    }
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> TensorMaps.encode(WgmmaGemmParams.xMapSpec(0x7f00_0000_0000L, 300, 4096), null));
    assertEquals("cuTensorMapEncodeTiled: " + cause, e.getMessage());
  }

  @Test
  void whereTheDriverIsPresentTheGemmsMapsEncodeAndDifferByShape() {
    assumeTrue(TensorMaps.isAvailable(), "no CUDA driver here");
    TensorMap x = TensorMaps.encode(WgmmaGemmParams.xMapSpec(0x7f00_0000_0000L, 300, 4096), null);
    TensorMap w = TensorMaps.encode(WgmmaGemmParams.wMapSpec(0x7f00_0000_0000L, 300, 4096), null);
    assertEquals(TensorMap.BYTES, x.bytes().length);
    assertFalse(x.equals(w), "the box differs (128 vs 256 rows)");
    assertEquals(x, TensorMaps.encode(WgmmaGemmParams.xMapSpec(0x7f00_0000_0000L, 300, 4096), null));
    // The second skinny GEMM's weight map: a 512-byte box row, legal only without a swizzle.
    TensorMap skinny2 = TensorMaps.encode(Skinny2GemmPlan.wMapSpec(0x7f00_0000_0000L, 1000, 520), null);
    assertEquals(TensorMap.BYTES, skinny2.bytes().length);
  }
}
