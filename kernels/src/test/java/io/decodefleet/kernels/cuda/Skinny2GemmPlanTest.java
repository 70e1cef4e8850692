package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Skinny2GemmPlanTest {

  /** One persistent CTA per SM on an H100/H200. */
  private static final int H200_SLOTS = 132;

  @Test
  void aPlanTakesAnotherSplitCountOfWholeChunksForTiming() {
    Skinny2GemmPlan qkv = Skinny2GemmFp8Params.planCodes(64, 6144, 4096, H200_SLOTS);
    assertEquals(4, qkv.splits());
    Skinny2GemmPlan unsplit = qkv.withSplits(1, H200_SLOTS);
    assertEquals(1, unsplit.splits());
    assertEquals(4096, unsplit.kSlice());
    assertEquals(96, unsplit.ctas(), "one item a CTA: 36 SMs idle");
    assertEquals(0, unsplit.workspaceFloats());
    assertEquals(0, unsplit.counterCount());
    assertEquals(64, unsplit.mTile(), "the same variant");
    Skinny2GemmPlan two = qkv.withSplits(2, H200_SLOTS);
    assertEquals(2048, two.kSlice());
    assertEquals(132, two.ctas());
    assertTrue(two.workspaceFloats() < qkv.workspaceFloats(), "fewer splits fit the planner's scratch");
    assertEquals(qkv, qkv.withSplits(4, H200_SLOTS));
    assertEquals(qkv, Skinny2GemmFp8Params.planCodes(64, 6144, 4096, H200_SLOTS, 0), "0: as planned");
    assertEquals(two, Skinny2GemmFp8Params.planCodes(64, 6144, 4096, H200_SLOTS, 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Skinny2GemmPlan.plan(8, 4096, 9 * 256, H200_SLOTS).withSplits(4, H200_SLOTS));
    assertTrue(e.getMessage().contains("come out as 3"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> qkv.withSplits(0, H200_SLOTS));
    assertThrows(IllegalArgumentException.class, () -> qkv.withSplits(17, H200_SLOTS));
  }

  @Test
  void fewerSplitsAreOneAndTwoSlicesWhereFewerThanThePlannersOnly() {
    Skinny2GemmPlan qkv = Skinny2GemmFp8Params.planCodes(64, 6144, 4096, H200_SLOTS);
    List<Skinny2GemmPlan> fewer = qkv.withFewerSplits(H200_SLOTS);
    assertEquals(List.of(1, 2), fewer.stream().map(Skinny2GemmPlan::splits).toList());
    assertEquals(96, fewer.get(0).ctas(), "unsplit: one 64-row tile a CTA");
    for (Skinny2GemmPlan p : fewer) {
      assertTrue(p.workspaceFloats() <= qkv.workspaceFloats(), "the scratch sized for the planner's fits");
    }
    Skinny2GemmPlan o = Skinny2GemmFp8Params.planCodes(8, 4096, 4096, H200_SLOTS);
    assertEquals(List.of(1), o.withFewerSplits(H200_SLOTS).stream().map(Skinny2GemmPlan::splits).toList());
    assertEquals(List.of(), o.withSplits(1, H200_SLOTS).withFewerSplits(H200_SLOTS));
  }

  @Test
  void llamaProjectionsSplitOnlyAsFarAsBalancingTheSmsAsks() {
    Skinny2GemmPlan qkv = Skinny2GemmPlan.plan(1, 6144, 4096, H200_SLOTS);
    assertEquals(96, qkv.nTiles());
    assertEquals(4, qkv.splits());
    assertEquals(1024, qkv.kSlice());
    assertEquals(132, qkv.ctas());
    assertEquals(12, qkv.busiestChunks(), "96 x 16 chunks on 132 SMs: 11.6 at best");
    Skinny2GemmPlan o = Skinny2GemmPlan.plan(8, 4096, 4096, H200_SLOTS);
    assertEquals(2, o.splits());
    assertEquals(128, o.ctas());
    Skinny2GemmPlan gateUp = Skinny2GemmPlan.plan(8, 28672, 4096, H200_SLOTS);
    assertEquals(2, gateUp.splits(), "unsplit, 448 tiles are 3.4 rounds: 64 chunks on the busiest CTA");
    assertEquals(56, gateUp.busiestChunks());
    Skinny2GemmPlan down = Skinny2GemmPlan.plan(16, 4096, 14336, H200_SLOTS);
    assertEquals(2, down.splits());
    assertEquals(7168, down.kSlice());
    assertEquals(28, down.busiestChunks());
    assertEquals(2L * 16 * 4096, down.workspaceFloats());
    assertEquals(64, down.counterCount());
    assertEquals(4, Skinny2GemmPlan.plan(1, 128256, 4096, H200_SLOTS).splits(), "LM head");
    // The self-test's shapes with more items than CTAs: split (30 items a CTA) and unsplit.
    Skinny2GemmPlan many = Skinny2GemmPlan.plan(2, 32000, 2048, H200_SLOTS);
    assertEquals(8, many.splits());
    assertEquals(4000, many.items());
    Skinny2GemmPlan unsplit = Skinny2GemmPlan.plan(16, 20000, 256, H200_SLOTS);
    assertEquals(1, unsplit.splits());
    assertEquals(313, unsplit.items());
    assertEquals(132, unsplit.ctas());
    Skinny2GemmPlan tail = Skinny2GemmPlan.plan(3, 1000, 520, H200_SLOTS);
    assertEquals(3, tail.splits(), "one 256-k chunk a slice, the last slice 8 wide");
    assertEquals(256, tail.kSlice());
  }

  @Test
  void slicesCoverKInWholeChunksWithNoEmptySliceAndTheGridNeverExceedsTheItems() {
    Random rnd = new Random(11);
    for (int trial = 0; trial < 2000; trial++) {
      int m = 1 + rnd.nextInt(16);
      int n = 1 + rnd.nextInt(140000);
      int k = 8 * (1 + rnd.nextInt(4000));
      int slots = 1 + rnd.nextInt(300);
      Skinny2GemmPlan p = Skinny2GemmPlan.plan(m, n, k, slots);
      String what = p.toString();
      assertEquals(0, p.kSlice() % Skinny2GemmPlan.CHUNK_K, what);
      assertTrue((long) p.splits() * p.kSlice() >= k, "slices fall short of k: " + what);
      assertTrue((long) (p.splits() - 1) * p.kSlice() < k, "last slice is empty: " + what);
      assertTrue(p.splits() >= 1 && p.splits() <= Skinny2GemmPlan.MAX_SPLITS, what);
      assertTrue(p.nTiles() * Skinny2GemmPlan.ROWS >= n && (p.nTiles() - 1) * Skinny2GemmPlan.ROWS < n, what);
      assertTrue(p.ctas() >= 1 && p.ctas() <= slots && p.ctas() <= p.items(), what);
      assertTrue(p.mTile() >= m && p.mTile() < 2 * m, "smallest variant: " + what);
      assertEquals(p.splits() == 1 ? 0 : (long) p.splits() * p.mTile() * p.nTiles() * 64, p.workspaceFloats(), what);
      // No other split count would have balanced the SMs more than the slack allows.
      int chunks = (k + 255) / 256;
      for (int s = 1; s <= Math.min(16, chunks); s++) {
        int perSlice = (chunks + s - 1) / s;
        int slices = (chunks + perSlice - 1) / perSlice;
        long busiest = ((long) p.nTiles() * slices + slots - 1) / slots * perSlice;
        assertTrue(p.busiestChunks() * 100L <= busiest * 102, "split " + s + " balances better than " + what);
      }
    }
  }

  @Test
  void eachRowCountTakesTheSmallestVariantThatHoldsIt() {
    assertEquals(Kernel.SKINNY2_GEMM_M1, Skinny2GemmPlan.kernelFor(1));
    assertEquals(Kernel.SKINNY2_GEMM_M2, Skinny2GemmPlan.kernelFor(2));
    assertEquals(Kernel.SKINNY2_GEMM_M4, Skinny2GemmPlan.kernelFor(3));
    assertEquals(Kernel.SKINNY2_GEMM_M8, Skinny2GemmPlan.kernelFor(5));
    assertEquals(Kernel.SKINNY2_GEMM_M16, Skinny2GemmPlan.kernelFor(9));
    assertEquals(Kernel.SKINNY2_GEMM_M16, Skinny2GemmPlan.kernelFor(16));
    assertEquals(4, Skinny2GemmPlan.plan(3, 100, 64, 132).mTile());
    // Catalog, as skinny2_gemm.cu asserts: 4 stages of a 32 KB weight box and mTile x rows of 576
    // bytes (each stage rounded up to 128 bytes, the tensor copy's alignment), 128 to align the ring,
    // 8 mbarriers.
    assertEquals(4 * (32768 + 16 * 576) + 128 + 64, Kernel.SKINNY2_GEMM_M16.sharedBytes());
    assertEquals(4 * (32768 + 576 + 64) + 128 + 64, Kernel.SKINNY2_GEMM_M1.sharedBytes(), "m1's stage padded");
    for (Kernel k : new Kernel[] {Kernel.SKINNY2_GEMM_M1, Kernel.SKINNY2_GEMM_M2, Kernel.SKINNY2_GEMM_M4,
        Kernel.SKINNY2_GEMM_M8, Kernel.SKINNY2_GEMM_M16}) {
      assertEquals(0, (k.sharedBytes() - 128 - 64) / 4 % 128, k + ": every stage's box starts 128-byte aligned");
    }
    assertEquals(160, Kernel.SKINNY2_GEMM_M1.threads());
    assertTrue(Kernel.SKINNY2_GEMM_M16.sharedBytes() <= 227 * 1024, "fits one H100/H200 SM");
  }

  @Test
  void shapesOutsideTheKernelAreRefusedWithTheFieldNamed() {
    assertTrue(Skinny2GemmPlan.supports(16, 8));
    assertFalse(Skinny2GemmPlan.supports(17, 4096), "more than 16 rows of x");
    assertFalse(Skinny2GemmPlan.supports(1, 4100), "k not a multiple of 8");
    assertFalse(Skinny2GemmPlan.supports(0, 4096));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Skinny2GemmPlan.plan(1, 4096, 4100, 132));
    assertTrue(e.getMessage().contains("k"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Skinny2GemmPlan.plan(17, 4096, 4096, 132));
    assertTrue(e.getMessage().contains("m"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Skinny2GemmPlan.kernelFor(0));
  }

  @Test
  void theParametersCarryThePlansSlicesAndAnUnsplitPlanNeedsNoScratch() {
    Skinny2GemmPlan small = Skinny2GemmPlan.plan(3, 130, 72, 132);
    assertEquals(1, small.splits(), "one chunk of k cannot be split");
    assertEquals(3, small.ctas(), "three row tiles, three CTAs");
    assertEquals(0, small.workspaceFloats());
    assertEquals(0, small.counterCount());
    TensorMap map = new TensorMap(new byte[TensorMap.BYTES]);
    Skinny2GemmParams p = small.params(map, 0x1000, 0x2000, 0, 0, 130, true);
    assertEquals(256, p.kSlice());
    assertEquals(1, p.outFloat());
    assertEquals(3, p.m());
    assertEquals(new LaunchShape(3, 1, 1, 160, Kernel.SKINNY2_GEMM_M4.sharedBytes()), small.launch());
    Skinny2GemmPlan split = Skinny2GemmPlan.plan(1, 4096, 4096, 132);
    assertThrows(IllegalArgumentException.class, () -> split.params(map, 0x1000, 0x2000, 0, 0, 4096, false),
        "a split launch needs its workspace and counters");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> small.params(null, 0x1000, 0x2000, 0, 0, 130, false));
    assertTrue(e.getMessage().startsWith("wMap"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> small.params(map, 0x1000, 0x2008, 0, 0, 130, false));
    assertTrue(e.getMessage().startsWith("x (0x2008)"), e.getMessage());
  }

  @Test
  void theWeightMapIsOneUnswizzledBoxOfAStageWholeBytesCountedAtEveryEdge() {
    long w = 0x7f10_0000_0000L;
    TensorMapSpec spec = Skinny2GemmPlan.plan(8, 1000, 520, H200_SLOTS).wMapSpec(w);
    assertArrayEquals(new long[] {520, 1000}, spec.globalDims(), "w (1000, 520) as (k, n)");
    assertArrayEquals(new long[] {520 * 2}, spec.globalStrides());
    assertArrayEquals(new int[] {256, 64}, spec.boxDims(), "256 k x 64 rows: one stage's weights");
    assertEquals(TensorMapSpec.SWIZZLE_NONE, spec.swizzle(), "rows land 512 bytes apart, as the consumers read them");
    assertEquals(64 * 512, spec.boxBytes(), "the producer's expect_tx for the weights (kWeightBytes)");
    assertEquals(spec, Skinny2GemmPlan.plan(1, 1000, 520, H200_SLOTS).wMapSpec(w), "one map serves every m");
    assertThrows(IllegalArgumentException.class, () -> Skinny2GemmPlan.wMapSpec(w, 1000, 516), "k not a multiple of 8");
    // A 512-byte box row is only possible unswizzled: the 128-byte swizzle refuses it.
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new TensorMapSpec(w, 520, 1000, 1040, 256, 64, TensorMapSpec.SWIZZLE_128B));
    assertTrue(e.getMessage().startsWith("boxInner x 2 bytes"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new TensorMapSpec(w, 520, 1000, 1040, 264, 64, 0));
    assertTrue(e.getMessage().startsWith("boxInner"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new TensorMapSpec(w, 520, 1000, 1040, 256, 64, 2));
    assertTrue(e.getMessage().startsWith("swizzle"), e.getMessage());
  }

  @Test
  void theParamsLayoutPutsTheWeightMapFirstThenTheFirstKernelsFieldsWithoutW() {
    StructLayout l = Skinny2GemmParams.LAYOUT;
    assertEquals(0, l.offsetOf("wMap"));
    assertEquals(128, l.offsetOf("out"));
    assertEquals(136, l.offsetOf("x"));
    assertEquals(144, l.offsetOf("workspace"));
    assertEquals(152, l.offsetOf("counters"));
    assertEquals(160, l.offsetOf("m"));
    assertEquals(184, l.offsetOf("outFloat"));
    assertEquals(192, l.size(), "188 bytes of fields, padded to the map's 64-byte alignment");
    byte[] b = new byte[TensorMap.BYTES];
    for (int i = 0; i < b.length; i++) b[i] = (byte) (i + 3);
    byte[] packed = Skinny2GemmPlan.plan(2, 4096, 4096, H200_SLOTS)
        .params(new TensorMap(b), 0x1000, 0x2000, 0x3000, 0x4000, 4096, false).pack();
    assertArrayEquals(b, java.util.Arrays.copyOfRange(packed, 0, 128), "the encoded map verbatim");
  }
}
