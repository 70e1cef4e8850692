package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SkinnyGemmPlanTest {

  private static final int H200_SLOTS = 132 * 4;

  @Test
  void slicesCoverKExactlyWithNoEmptySlice() {
    Random rnd = new Random(3);
    for (int trial = 0; trial < 500; trial++) {
      int m = 1 + rnd.nextInt(256);
      int n = 1 + rnd.nextInt(30000);
      int k = 8 * (1 + rnd.nextInt(2000));
      SkinnyGemmPlan plan = SkinnyGemmPlan.plan(m, n, k, 1 + rnd.nextInt(1000));
      assertEquals(0, plan.kSlice() % 32, "kSlice");
      assertTrue((long) plan.splits() * plan.kSlice() >= k, "slices fall short of k");
      assertTrue((long) (plan.splits() - 1) * plan.kSlice() < k, "last slice is empty");
      assertTrue(plan.mTile() * plan.mTiles() >= m && plan.mTile() * (plan.mTiles() - 1) < m);
      int rows = plan.rowsPerCta();
      assertTrue(plan.nTiles() * rows >= n && (plan.nTiles() - 1) * rows < n);
      assertTrue(plan.splits() == 1
          || (long) plan.splits() * plan.mTile() * rows * 4 <= SkinnyGemmPlan.MAX_REDUCE_BYTES,
          "partials one CTA sums");
    }
  }

  @Test
  void llamaShapesFillTheGpuWithoutSplittingTheLargestProjection() {
    SkinnyGemmPlan qkv = SkinnyGemmPlan.plan(1, 6144, 4096, H200_SLOTS);
    assertEquals(96, qkv.nTiles());
    assertEquals(5, qkv.splits());
    SkinnyGemmPlan gateUp = SkinnyGemmPlan.plan(8, 28672, 4096, H200_SLOTS);
    assertEquals(1, gateUp.splits());
    assertEquals(0, gateUp.workspaceFloats());
    SkinnyGemmPlan down = SkinnyGemmPlan.plan(64, 4096, 14336, H200_SLOTS);
    assertEquals(Kernel.SKINNY_GEMM_M64, down.kernel());
    assertEquals(32, down.nTiles());
    assertTrue(down.launch().ctas() <= H200_SLOTS, "one wave");
    assertEquals((long) down.splits() * 64 * 4096, down.workspaceFloats());
  }

  @Test
  void wideVariantsShareXOver128RowsAndCapSplitsByThePartialsOneCtaSums() {
    assertEquals(64, SkinnyGemmPlan.rowsPerCta(Kernel.SKINNY_GEMM_M8));
    assertEquals(64, SkinnyGemmPlan.rowsPerCta(Kernel.SKINNY_GEMM_M16));
    assertEquals(128, SkinnyGemmPlan.rowsPerCta(Kernel.SKINNY_GEMM_M32));
    assertEquals(128, SkinnyGemmPlan.rowsPerCta(Kernel.SKINNY_GEMM_M64));
    // 2 CTAs per SM at m = 64: the gate_up projection's 224 row tiles fit one wave unsplit.
    SkinnyGemmPlan gateUp = SkinnyGemmPlan.plan(64, 28672, 4096, 132 * 2);
    assertEquals(224, gateUp.nTiles());
    assertEquals(1, gateUp.splits());
    // o projection at m = 64: 32 tiles would take 8 splits of 264 slots, but 4 x 32 KB of
    // partials is what the summing CTA reads in two rounds.
    SkinnyGemmPlan o = SkinnyGemmPlan.plan(64, 4096, 4096, 132 * 2);
    assertEquals(4, o.splits());
    assertEquals(1024, o.kSlice());
    // m = 1 o projection: 64 tiles x 8 splits fill 4 CTAs per SM.
    assertEquals(8, SkinnyGemmPlan.plan(1, 4096, 4096, H200_SLOTS).splits());
  }

  @Test
  void kernelVariantIsTheSmallestTileHoldingM() {
    assertEquals(Kernel.SKINNY_GEMM_M8, SkinnyGemmPlan.kernelFor(1));
    assertEquals(Kernel.SKINNY_GEMM_M8, SkinnyGemmPlan.kernelFor(8));
    assertEquals(Kernel.SKINNY_GEMM_M16, SkinnyGemmPlan.kernelFor(9));
    assertEquals(Kernel.SKINNY_GEMM_M32, SkinnyGemmPlan.kernelFor(17));
    assertEquals(Kernel.SKINNY_GEMM_M64, SkinnyGemmPlan.kernelFor(33));
    assertEquals(Kernel.SKINNY_GEMM_M64, SkinnyGemmPlan.kernelFor(256));
    assertEquals(4, SkinnyGemmPlan.plan(256, 64, 64, 10).mTiles());
    assertThrows(IllegalArgumentException.class, () -> SkinnyGemmPlan.rowsPerCta(Kernel.GEMM));
  }

  @Test
  void rejectsKThatIsNotWholeVectors() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SkinnyGemmPlan.plan(1, 64, 100, 10));
    assertEquals("k must be a multiple of 8 but is 100", e.getMessage());
  }

  @Test
  void paramsRequireWorkspaceOnlyWhenSplit() {
    SkinnyGemmPlan split = SkinnyGemmPlan.plan(1, 64, 4096, 100);
    assertTrue(split.splits() > 1);
    assertThrows(IllegalArgumentException.class,
        () -> SkinnyGemmParams.of(split, 1, 2, 3, 0, 0, 64));
    SkinnyGemmPlan whole = SkinnyGemmPlan.plan(1, 64 * 200, 256, 100);
    assertEquals(1, whole.splits());
    assertEquals(256, SkinnyGemmParams.of(whole, 1, 2, 3, 0, 0, 64 * 200).kSlice());
  }

  @Test
  void earlyWeightsIsOffUnlessAskedForAndPackedAfterOutFloat() {
    SkinnyGemmPlan whole = SkinnyGemmPlan.plan(1, 64 * 200, 256, 100);
    SkinnyGemmParams p = SkinnyGemmParams.of(whole, 1, 2, 3, 0, 0, 64 * 200, true);
    assertEquals(0, p.earlyWeights());
    SkinnyGemmParams early = p.withEarlyWeights();
    assertEquals(1, early.earlyWeights());
    assertEquals(p.outFloat(), early.outFloat());
    assertEquals(p.kSlice(), early.kSlice());
    byte[] packed = early.pack();
    assertEquals(72, packed.length);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(packed).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    assertEquals(1, b.getInt(64), "outFloat");
    assertEquals(1, b.getInt(68), "earlyWeights");
    assertEquals(0, java.nio.ByteBuffer.wrap(p.pack()).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(68));
  }
}
