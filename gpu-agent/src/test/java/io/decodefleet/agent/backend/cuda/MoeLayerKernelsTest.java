package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.MoeConfig;
import io.decodefleet.agent.engine.MoeRouterPolicy;
import io.decodefleet.kernels.reference.ExpertPermutation;
import org.junit.jupiter.api.Test;

/** The host half of the device MoE layer: the capacity table the permutation reads, and the scratch it plans. */
class MoeLayerKernelsTest {

  /**
   * The device reads each live row count's capacity from a table the CPU reference's own rule filled,
   * so a factor that is not exact in binary (1.1) drops exactly the CPU backend's tokens.
   */
  @Test
  void theCapacityTableHoldsTheCpuRulesValueForEveryLiveRowCount() {
    MoeConfig m = new MoeConfig(8, 2, 96, true);
    for (double factor : new double[] {1.0, 1.1, 1.25, 0.3, 7.5}) {
      int[] caps = MoeLayerKernels.capacities(new MoeRouterPolicy(factor), m, 300);
      assertEquals(301, caps.length);
      for (int rows = 0; rows <= 300; rows++) {
        assertEquals(ExpertPermutation.capacity(factor, rows, 2, 8), caps[rows], "factor " + factor + ", " + rows
            + " rows");
      }
    }
    // ceil(1.1 * 200 * 2 / 8) = ceil(55.00000000000001) = 56, where float32 arithmetic gives 55.
    assertEquals(56, MoeLayerKernels.capacities(new MoeRouterPolicy(1.1), m, 200)[200]);
  }

  /**
   * Regions are 256-byte aligned, do not overlap, and hold the worst case: every launched row's k
   * pairs kept (plain top-k), each as one row of act and of y; the routing (a slice a layer) comes
   * first, where the parity tool reads it back or gives its own.
   */
  @Test
  void theScratchHoldsTheWorstCaseOfEveryRegionWithoutOverlap() {
    ModelConfig c = ModelConfig.preset("mixtral-8x7b");
    int rows = 256;
    MoeLayerKernels.Scratch s = MoeLayerKernels.Scratch.of(c, rows);
    long pairs = 2L * rows;
    long[][] regions = {
        {s.experts(), 4 * 32 * pairs}, {s.weights(), 4 * 32 * pairs}, {s.skip(), 4}, {s.logits(), 4L * rows * 8},
        {s.offsets(), 4 * 9}, {s.active(), 4 * 9},
        {s.tokenOf(), 4 * pairs}, {s.rowOf(), 4 * pairs}, {s.load(), 8L * 32 * 8}, {s.capacities(), 4L * (rows + 1)},
        {s.act(), 2 * pairs * 14336}, {s.y(), 2 * pairs * 4096}};
    long end = 0;
    for (long[] r : regions) {
      assertEquals(0, r[0] % 256, "aligned");
      assertTrue(r[0] >= end, "region at " + r[0] + " overlaps the previous one, which ends at " + end);
      end = r[0] + r[1];
    }
    assertTrue(s.bytes() >= end);
  }
}
