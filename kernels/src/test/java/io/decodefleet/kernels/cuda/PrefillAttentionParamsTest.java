package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The prefill kernels' choice and their grids. */
class PrefillAttentionParamsTest {

  private static PrefillAttentionParams params(int qHeads, int kvHeads, int headDim, int seqs) {
    return new PrefillAttentionParams(1, 2, 3, 4, 5, seqs, qHeads, kvHeads, headDim, 0.18f);
  }

  @Test
  void theMmaSyncKernelTakes64RowsACtaWithTheHeadsAlongX() {
    PrefillAttentionParams d128 = params(32, 8, 128, 2);
    assertEquals(Kernel.PREFILL_ATTENTION_D128, d128.kernel(Kernel.PREFILL_ATTENTION_D128));
    assertEquals(Kernel.PREFILL_ATTENTION_D64, params(8, 8, 64, 1).kernel(Kernel.PREFILL_ATTENTION_D128));
    // Five tiles of 64 x 128 bf16: Q and two stages of K and V.
    assertEquals(80 * 1024, Kernel.PREFILL_ATTENTION_D128.sharedBytes());
    assertEquals(64, PrefillAttentionParams.rowsPerCta(Kernel.PREFILL_ATTENTION_D128));
    assertEquals(128, PrefillAttentionParams.rowsPerCta(Kernel.PREFILL_ATTENTION_TMA_PP_D128));
    LaunchShape l = d128.launch(Kernel.PREFILL_ATTENTION_D128, 257);
    assertEquals(32, l.gridX(), "the heads along x: every head's longest tile is issued first");
    assertEquals(5, l.gridY(), "257 query rows in tiles of 64");
    assertEquals(2, l.gridZ());
    assertEquals(80 * 1024, l.sharedBytes());
    assertEquals(3, d128.launch(Kernel.PREFILL_ATTENTION_WGMMA_D128, 257).gridY(), "257 query rows in tiles of 128");
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> d128.kernel(Kernel.PAGED_PREFILL_ATTENTION_D128));
  }

  @Test
  void theWgmmaVariantTakes128RowsOnTwoWarpgroupsAndRunsOnSm90Only() {
    PrefillAttentionParams d128 = params(32, 8, 128, 1);
    assertEquals(Kernel.PREFILL_ATTENTION_WGMMA_D128, d128.kernel(Kernel.PREFILL_ATTENTION_WGMMA_D128));
    assertEquals(Kernel.PREFILL_ATTENTION_D64, params(8, 8, 64, 1).kernel(Kernel.PREFILL_ATTENTION_WGMMA_D128));
    assertEquals(256, Kernel.PREFILL_ATTENTION_WGMMA_D128.threads());
    // 1 KB to align the rings to the 128-byte swizzle's 1024-byte atom, two Q tiles of 64 rows (16 KB each),
    // two K and two V slots of 128 keys (32 KB each).
    assertEquals(161 * 1024, Kernel.PREFILL_ATTENTION_WGMMA_D128.sharedBytes());
    assertEquals(16, d128.launch(Kernel.PREFILL_ATTENTION_WGMMA_D128, 2048).gridY());
    org.junit.jupiter.api.Assertions.assertTrue(Kernel.PREFILL_ATTENTION_WGMMA_D128.runsOn(9, 0));
    org.junit.jupiter.api.Assertions.assertFalse(Kernel.PREFILL_ATTENTION_WGMMA_D128.runsOn(10, 0));
    org.junit.jupiter.api.Assertions.assertFalse(Kernel.PREFILL_ATTENTION_WGMMA_D128.runsOn(8, 0));
    org.junit.jupiter.api.Assertions.assertTrue(Kernel.PREFILL_ATTENTION_D128.runsOn(10, 0));
  }

  @Test
  void autoRunsWgmmaWhereItsGridFillsTheSmsAndTheOtherSettingsDecideTheRest() {
    PrefillAttentionParams.Wgmma auto = PrefillAttentionParams.Wgmma.AUTO;
    PrefillAttentionParams one = params(32, 8, 128, 1);
    assertEquals(Kernel.PREFILL_ATTENTION_D128, one.choose(auto, 128), "32 CTAs: a quarter of the SMs");
    assertEquals(Kernel.PREFILL_ATTENTION_D128, one.choose(auto, 384), "96 CTAs");
    assertEquals(Kernel.PREFILL_ATTENTION_WGMMA_D128, one.choose(auto, 385), "128 CTAs");
    assertEquals(Kernel.PREFILL_ATTENTION_WGMMA_D128, one.choose(auto, 8192));
    assertEquals(Kernel.PREFILL_ATTENTION_WGMMA_D128, params(32, 8, 128, 4).choose(auto, 128),
        "four 128-token prompts: 128 CTAs");
    assertEquals(Kernel.PREFILL_ATTENTION_WGMMA_D128, one.choose(PrefillAttentionParams.Wgmma.ON, 1), "on: at any length");
    assertEquals(Kernel.PREFILL_ATTENTION_D128, one.choose(PrefillAttentionParams.Wgmma.OFF, 8192));
    assertEquals(auto, PrefillAttentionParams.Wgmma.parse(null));
    assertEquals(auto, PrefillAttentionParams.Wgmma.parse("auto"));
    assertEquals(PrefillAttentionParams.Wgmma.ON, PrefillAttentionParams.Wgmma.parse(" ON "));
    assertEquals(PrefillAttentionParams.Wgmma.OFF, PrefillAttentionParams.Wgmma.parse("0"));
    assertEquals(PrefillAttentionParams.Wgmma.OFF, PrefillAttentionParams.Wgmma.parse("false"));
    // The head-dim-64 kernel is the only one at 64, whatever the rule says.
    assertEquals(Kernel.PREFILL_ATTENTION_D64, params(8, 8, 64, 64).kernel(8192));
  }

  @Test
  void theModelLoadLineSaysWhatThePromptsRunOn() {
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv(PrefillAttentionParams.WGMMA_ENV) == null
        && System.getenv(PrefillAttentionParams.TMA_ENV) == null, "settings left at their defaults");
    assertEquals("mma.sync", PrefillAttentionParams.choice(false, true));
    assertEquals("wgmma fed by TMA, consumers in turn from 128 CTAs of 128 rows, else mma.sync",
        PrefillAttentionParams.choice(true, true));
    assertEquals("wgmma from 128 CTAs of 128 rows, else mma.sync", PrefillAttentionParams.choice(true, false),
        "no tensor maps here: the wgmma kernel's own copies");
    assertEquals(Kernel.PREFILL_ATTENTION_TMA_PP_D128, PrefillAttentionParams.tmaKernel(), "ping-pong by default");
    assertEquals(Kernel.PREFILL_ATTENTION_TMA_PP_D128, PrefillAttentionParams.tmaKernel("on"));
    assertEquals(Kernel.PREFILL_ATTENTION_TMA_PP_D128, PrefillAttentionParams.tmaKernel(" PingPong "));
    assertEquals(Kernel.PREFILL_ATTENTION_TMA_D128, PrefillAttentionParams.tmaKernel("plain"));
    assertEquals(null, PrefillAttentionParams.tmaKernel("off"));
    assertEquals(null, PrefillAttentionParams.tmaKernel("0"));
  }

  @Test
  void theTmaVariantReadsQkvAsTwoDimensionalTensorsInBoxesOfItsTiles() {
    TensorMapSpec q = PrefillAttentionTmaParams.qMapSpec(0x1000, 2048, 32);
    assertEquals(32 * 128, q.inner());
    assertEquals(2048, q.outer());
    assertEquals(2L * 32 * 128, q.rowStrideBytes());
    assertEquals(64, q.boxInner(), "one 128-byte swizzle span of head dims");
    assertEquals(64, q.boxOuter(), "a consumer warpgroup's 64 query rows");
    assertEquals(TensorMapSpec.SWIZZLE_128B, q.swizzle());
    TensorMapSpec k = PrefillAttentionTmaParams.kvMapSpec(0x2000, 100, 8);
    assertEquals(8 * 128, k.inner());
    assertEquals(100, k.outer(), "rows past the step's tokens read as zeros");
    assertEquals(128, k.boxOuter(), "a 128-key tile");
    TensorMap map = new TensorMap(new byte[TensorMap.BYTES]);
    PrefillAttentionTmaParams p = new PrefillAttentionTmaParams(map, map, map, 1, 2, 3, 32, 8, 0.1f);
    LaunchShape l = p.launch(2048);
    assertEquals(32, l.gridX());
    assertEquals(16, l.gridY());
    assertEquals(3, l.gridZ());
    assertEquals(384, l.threads(), "a producer warpgroup and two consumers");
    assertEquals(448, PrefillAttentionTmaParams.LAYOUT.size(), "three 64-aligned maps, then the rest, padded to 64");
    assertEquals(161 * 1024 + 9 * 8, Kernel.PREFILL_ATTENTION_TMA_D128.sharedBytes());
    org.junit.jupiter.api.Assertions.assertTrue(Kernel.PREFILL_ATTENTION_TMA_D128.runsOn(9, 0));
    org.junit.jupiter.api.Assertions.assertFalse(Kernel.PREFILL_ATTENTION_TMA_D128.runsOn(10, 0));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new PrefillAttentionTmaParams(null, map, map, 1, 2, 3, 32, 8, 0.1f));
    java.util.List<TensorMapSpec> asked = new java.util.ArrayList<>();
    PrefillAttentionParams attn = new PrefillAttentionParams(0x100, 0x200, 0x300, 0x400, 0x500, 2, 32, 8, 128, 0.18f);
    PrefillAttentionTmaParams of = PrefillAttentionTmaParams.of(attn, 300, spec -> {
      asked.add(spec);
      return map;
    });
    assertEquals(java.util.List.of(PrefillAttentionTmaParams.qMapSpec(0x200, 300, 32),
        PrefillAttentionTmaParams.kvMapSpec(0x300, 300, 8), PrefillAttentionTmaParams.kvMapSpec(0x400, 300, 8)), asked,
        "q, k and v over the step's rows");
    assertEquals(new PrefillAttentionTmaParams(map, map, map, 0x100, 0x500, 2, 32, 8, 0.18f), of);
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> PrefillAttentionTmaParams.of(params(8, 8, 64, 1), 10, spec -> map), "head dim 128 only");
  }
}
