package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class Skinny2GemmFp8ParamsTest {

  private static final int SLOTS = 132;
  private static final TensorMap MAP = new TensorMap(new byte[TensorMap.BYTES]);

  @Test
  void eachRowCountRunsTheSmallestFp8VariantThatHoldsItOnItsPersistentGrid() {
    int[][] expected = {{1, 1}, {2, 2}, {3, 4}, {8, 8}, {9, 16}, {16, 16}, {17, 32}, {32, 32}, {33, 64}, {64, 64}};
    for (int[] e : expected) {
      Skinny2GemmPlan plan = Skinny2GemmFp8Params.plan(e[0], 6144, 4096, SLOTS);
      Kernel k = Skinny2GemmFp8Params.kernelFor(plan);
      assertEquals("SKINNY2_GEMM_FP8_M" + e[1], k.name(), "m = " + e[0]);
      assertEquals(e[1], plan.mTile(), "the workspace holds the variant's x rows, m = " + e[0]);
      assertEquals(new LaunchShape(132, 1, 1, 160, k.sharedBytes()), Skinny2GemmFp8Params.launch(plan));
      if (e[0] <= Skinny2GemmPlan.MAX_M) {
        assertEquals(Skinny2GemmPlan.plan(e[0], 6144, 4096, SLOTS), plan, "up to 16 rows: the bf16 kernel's plan");
      }
    }
    Skinny2GemmPlan wide = Skinny2GemmFp8Params.plan(64, 28672, 4096, SLOTS);
    assertEquals((long) wide.splits() * 64 * wide.nTiles() * 64, wide.workspaceFloats());
    assertEquals(136_448, Kernel.SKINNY2_GEMM_FP8_M1.sharedBytes());
    assertEquals(198_912, Kernel.SKINNY2_GEMM_FP8_M16.sharedBytes(), "8 stages of 16 KB + 16 x rows");
    assertEquals(199_904, Kernel.SKINNY2_GEMM_FP8_M32.sharedBytes(), "6 stages of 16 KB + 32 x rows");
    assertEquals(200_896, Kernel.SKINNY2_GEMM_FP8_M64.sharedBytes(), "4 stages of 16 KB + 64 x rows");
    for (Kernel k : new Kernel[] {Kernel.SKINNY2_GEMM_FP8_M1, Kernel.SKINNY2_GEMM_FP8_M2, Kernel.SKINNY2_GEMM_FP8_M4,
        Kernel.SKINNY2_GEMM_FP8_M8, Kernel.SKINNY2_GEMM_FP8_M16, Kernel.SKINNY2_GEMM_FP8_M32,
        Kernel.SKINNY2_GEMM_FP8_M64}) {
      assertTrue(k.sharedBytes() <= 227 * 1024, k + ": one CTA per SM fits");
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Skinny2GemmFp8Params.plan(65, 6144, 4096, SLOTS));
    assertTrue(e.getMessage().startsWith("m"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Skinny2GemmPlan.plan(17, 6144, 4096, SLOTS));
    assertTrue(e.getMessage().startsWith("m"), "the bf16 kernel still stops at 16: " + e.getMessage());
  }

  @Test
  void theWeightMapIsOneUnswizzledUint8BoxOf256CodesBy64Rows() {
    long w = 0x7f10_0000_0000L;
    TensorMapSpec spec = Skinny2GemmFp8Params.wMapSpec(w, 1000, 528);
    assertEquals(TensorMapSpec.DATA_TYPE_UINT8, spec.dataType());
    assertArrayEquals(new long[] {528, 1000}, spec.globalDims(), "codes (1000, 528) as (k, n)");
    assertArrayEquals(new long[] {528}, spec.globalStrides(), "one byte a code");
    assertArrayEquals(new int[] {256, 64}, spec.boxDims());
    assertEquals(16 * 1024, spec.boxBytes(), "the producer's expect_tx for the weights (kFp8WeightBytes)");
    assertEquals(TensorMapSpec.SWIZZLE_NONE, spec.swizzle());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Skinny2GemmFp8Params.wMapSpec(w, 1000, 520));
    assertTrue(e.getMessage().startsWith("k"), "a 520-byte row stride is not a multiple of 16: " + e.getMessage());
    // The bf16 map of the same weights is another map: the cache key tells them apart.
    TensorMapSpec bf16 = Skinny2GemmPlan.wMapSpec(w, 1000, 528);
    assertEquals(TensorMapSpec.DATA_TYPE_BF16, bf16.dataType());
    assertFalse(bf16.equals(spec));
    e = assertThrows(IllegalArgumentException.class,
        () -> new TensorMapSpec(w, 528, 1000, 528, 256, 64, TensorMapSpec.SWIZZLE_NONE, 7));
    assertTrue(e.getMessage().startsWith("dataType"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new TensorMapSpec(w, 528, 1000, 528, 200, 64, TensorMapSpec.SWIZZLE_128B, TensorMapSpec.DATA_TYPE_UINT8));
    assertTrue(e.getMessage().startsWith("boxInner x 1 bytes"), e.getMessage());
  }

  @Test
  void theParametersCarryThePlanAndRefuseWhatTheKernelCannotRead() {
    assertTrue(Skinny2GemmFp8Params.supports(16, 16));
    assertTrue(Skinny2GemmFp8Params.supports(64, 4096));
    assertFalse(Skinny2GemmFp8Params.supports(1, 4104), "k a multiple of 8 but not of 16");
    assertFalse(Skinny2GemmFp8Params.supports(65, 4096));
    assertFalse(Skinny2GemmFp8Params.supports(0, 4096));
    Skinny2GemmPlan forty = Skinny2GemmFp8Params.plan(40, 4096, 4096, SLOTS);
    assertEquals(40, Skinny2GemmFp8Params.of(forty, MAP, 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 4096, false).m());
    Skinny2GemmPlan plan = Skinny2GemmPlan.plan(8, 4096, 4096, SLOTS);
    Skinny2GemmFp8Params p = Skinny2GemmFp8Params.of(plan, MAP, 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 4096, true);
    assertEquals(plan.kSlice(), p.kSlice());
    assertEquals(plan.splits(), p.splits());
    assertEquals(1, p.outFloat());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Skinny2GemmFp8Params.of(plan, MAP, 0x1000, 0x2000, 0, 0x4000, 0x5000, 4096, false));
    assertTrue(e.getMessage().startsWith("scale"), e.getMessage());
    Skinny2GemmPlan odd = Skinny2GemmPlan.plan(1, 64, 40, SLOTS); // the bf16 plan: k a multiple of 8 only
    e = assertThrows(IllegalArgumentException.class,
        () -> Skinny2GemmFp8Params.of(odd, MAP, 0x1000, 0x2000, 0x3000, 0, 0, 64, false));
    assertTrue(e.getMessage().startsWith("k"), e.getMessage());
  }

  @Test
  void theLayoutIsTheMapThenTheFirstFp8KernelsFieldsWithoutW() {
    StructLayout l = Skinny2GemmFp8Params.LAYOUT;
    assertEquals(0, l.offsetOf("wMap"));
    assertEquals(128, l.offsetOf("out"));
    assertEquals(144, l.offsetOf("scale"));
    assertEquals(168, l.offsetOf("m"));
    assertEquals(192, l.offsetOf("outFloat"));
    assertEquals(200, l.offsetOf("xScale"), "the codes variants' field, 8-aligned after outFloat");
    assertEquals(256, l.offsetOf("xMap"), "the codes variants' x map, 64-aligned");
    assertEquals(384, l.size());
    Skinny2GemmPlan plan = Skinny2GemmPlan.plan(2, 4096, 4096, SLOTS);
    byte[] packed = Skinny2GemmFp8Params.of(plan, MAP, 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 4096, false).pack();
    ByteBuffer b = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0x3000, b.getLong(144));
    assertEquals(2, b.getInt(168));
    assertEquals(plan.kSlice(), b.getInt(184));
  }

  @Test
  void codesLaunchesRunTheSmallestOfFourVariantsFromEightRows() {
    int[][] expected = {{1, 8}, {2, 8}, {8, 8}, {9, 16}, {16, 16}, {17, 32}, {32, 32}, {33, 64}, {64, 64}};
    for (int[] e : expected) {
      Skinny2GemmPlan plan = Skinny2GemmFp8Params.planCodes(e[0], 6144, 4096, SLOTS);
      Kernel k = Skinny2GemmFp8Params.kernelForCodes(e[0], false);
      assertEquals("SKINNY2_GEMM_FP8X8_M" + e[1], k.name(), "m = " + e[0]);
      assertEquals(e[1], plan.mTile(), "the workspace holds the variant's x rows, m = " + e[0]);
      assertEquals(new LaunchShape(132, 1, 1, 160, k.sharedBytes()), Skinny2GemmFp8Params.launchCodes(plan, false));
      Kernel wg = Skinny2GemmFp8Params.kernelForCodes(e[0], true);
      assertEquals("SKINNY2_GEMM_FP8X8_WGMMA_M" + e[1], wg.name(), "m = " + e[0] + ", the same tiles on wgmma");
      assertEquals(new LaunchShape(132, 1, 1, 288, wg.sharedBytes()), Skinny2GemmFp8Params.launchCodes(plan, true),
          "two consumer warpgroups and the producer warp");
    }
    assertEquals(148_624, Kernel.SKINNY2_GEMM_FP8X8_WGMMA_M8.sharedBytes(),
        "8 stages of two 8 KB weight boxes and two x boxes of 8 rows, + 1 KB of swizzle alignment + the barriers");
    assertEquals(197_776, Kernel.SKINNY2_GEMM_FP8X8_WGMMA_M32.sharedBytes(), "8 stages, x boxes of 32 rows");
    assertEquals(197_744, Kernel.SKINNY2_GEMM_FP8X8_WGMMA_M64.sharedBytes(), "6 stages, x boxes of 64 rows");
    for (String m : new String[] {"8", "16", "32", "64"}) {
      Kernel wg = Kernel.valueOf("SKINNY2_GEMM_FP8X8_WGMMA_M" + m);
      assertTrue(wg.sharedBytes() <= 227 * 1024, wg + ": one CTA per SM fits");
      assertTrue(wg.runsOn(9, 0), wg + " runs on sm_90");
      assertFalse(wg.runsOn(10, 0), wg + " is sm_90a code only");
      assertTrue(Kernel.valueOf("SKINNY2_GEMM_FP8X8_M" + m).runsOn(10, 0), "the mma.sync variant runs anywhere");
    }
    assertTrue(Skinny2GemmFp8Params.wgmmaRunsOn(9, 0));
    assertFalse(Skinny2GemmFp8Params.wgmmaRunsOn(12, 0));
    assertEquals(147_712, Kernel.SKINNY2_GEMM_FP8X8_M8.sharedBytes(), "8 stages of 16 KB + 8 x rows of 256 codes");
    assertEquals(196_864, Kernel.SKINNY2_GEMM_FP8X8_M32.sharedBytes(), "8 stages of 16 KB + 32 x rows");
    assertEquals(196_832, Kernel.SKINNY2_GEMM_FP8X8_M64.sharedBytes(), "6 stages of 16 KB + 64 x rows");
    for (Kernel k : new Kernel[] {Kernel.SKINNY2_GEMM_FP8X8_M8, Kernel.SKINNY2_GEMM_FP8X8_M16,
        Kernel.SKINNY2_GEMM_FP8X8_M32, Kernel.SKINNY2_GEMM_FP8X8_M64}) {
      assertTrue(k.sharedBytes() <= 227 * 1024, k + ": one CTA per SM fits");
    }
    assertThrows(IllegalArgumentException.class, () -> Skinny2GemmFp8Params.planCodes(65, 6144, 4096, SLOTS));
  }

  @Test
  void codesParamsCarryTheRowScalesOfXAndRefuseANarrowPlanOrNoScales() {
    Skinny2GemmPlan plan = Skinny2GemmFp8Params.planCodes(5, 4096, 4096, SLOTS);
    byte[] xMapBytes = new byte[TensorMap.BYTES];
    xMapBytes[0] = 7;
    byte[] packed = Skinny2GemmFp8Params.ofCodes(plan, MAP, new TensorMap(xMapBytes), 0x1000, 0x2000, 0x6000, 0x3000,
        0x4000, 0x5000, 4096, false).pack();
    ByteBuffer b = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0x2000, b.getLong(136), "x: the codes");
    assertEquals(0x3000, b.getLong(144), "scale: w's rows");
    assertEquals(0x6000, b.getLong(200), "xScale: x's rows");
    assertEquals(5, b.getInt(168));
    assertEquals(7, b.get(256), "the x map");
    TensorMapSpec x = Skinny2GemmFp8Params.xMapSpec(0x7f00_0000L, plan, false);
    assertArrayEquals(new long[] {4096, 5}, x.globalDims(), "codes (5, 4096) as (k, m)");
    assertArrayEquals(new int[] {256, 8}, x.boxDims(), "one stage's x: 256 codes of the variant's 8 rows");
    assertEquals(TensorMapSpec.DATA_TYPE_UINT8, x.dataType());
    assertEquals(TensorMapSpec.SWIZZLE_NONE, x.swizzle());
    TensorMapSpec xw = Skinny2GemmFp8Params.xMapSpec(0x7f00_0000L, plan, true);
    assertArrayEquals(new long[] {4096, 5}, xw.globalDims());
    assertArrayEquals(new int[] {128, 8}, xw.boxDims(), "wgmma: half a stage's x, one 128-byte swizzle row a row");
    assertEquals(TensorMapSpec.SWIZZLE_128B, xw.swizzle());
    TensorMapSpec ww = Skinny2GemmFp8Params.wMapSpecCodes(0x7f10_0000L, 6144, 4096, true);
    assertArrayEquals(new long[] {4096, 6144}, ww.globalDims());
    assertArrayEquals(new int[] {128, 64}, ww.boxDims(), "wgmma: half a stage's 64 weight rows");
    assertEquals(TensorMapSpec.SWIZZLE_128B, ww.swizzle());
    assertEquals(Skinny2GemmFp8Params.wMapSpec(0x7f10_0000L, 6144, 4096),
        Skinny2GemmFp8Params.wMapSpecCodes(0x7f10_0000L, 6144, 4096, false), "mma.sync: the weights' usual map");
    assertEquals(0L, Skinny2GemmFp8Params.of(Skinny2GemmFp8Params.plan(5, 4096, 4096, SLOTS), MAP, 0x1000, 0x2000,
        0x3000, 0x4000, 0x5000, 4096, false).xScale(), "the bf16-x variants leave it unset");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Skinny2GemmFp8Params.ofCodes(
        plan, MAP, MAP, 0x1000, 0x2000, 0, 0x3000, 0x4000, 0x5000, 4096, false));
    assertTrue(e.getMessage().contains("xScale"), e.getMessage());
    Skinny2GemmPlan bf16x = Skinny2GemmFp8Params.plan(3, 4096, 4096, SLOTS); // a tile of 4 rows
    e = assertThrows(IllegalArgumentException.class, () -> Skinny2GemmFp8Params.ofCodes(
        bf16x, MAP, MAP, 0x1000, 0x2000, 0x6000, 0x3000, 0x4000, 0x5000, 4096, false));
    assertTrue(e.getMessage().contains("planCodes"), e.getMessage());
  }
}
