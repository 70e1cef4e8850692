package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The mixture-of-experts kernels' parameter mirrors: the worst-case grids a decode graph captures
 * (every expert, every output tile, every launched row) and what they refuse.
 */
class MoeKernelParamsTest {

  @Test
  void theRouterRunsOneWarpPerLaunchedRowFourToACta() {
    MoeRouteParams p = new MoeRouteParams(256, 512, 768, 1024, 0, 17, 128, 8, 128, 1);
    assertEquals(5, p.launch().gridX(), "17 rows, 4 warps a CTA");
    assertEquals(128, p.launch().threads());
    assertEquals(64, MoeRouteParams.LAYOUT.size());
    assertEquals(1, new MoeRouteParams(256, 512, 768, 0, 0, 1, 8, 2, 8, 1).launch().gridX());
  }

  @Test
  void theRouterRefusesMoreExpertsThanAWarpHoldsAndMoreSlotsThanLanes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new MoeRouteParams(256, 512, 768, 0, 0, 4, 257, 2, 257, 1));
    assertTrue(e.getMessage().startsWith("numExperts must be in 2..256"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new MoeRouteParams(256, 512, 768, 0, 0, 4, 8, 9, 8, 1));
    assertThrows(IllegalArgumentException.class, () -> new MoeRouteParams(256, 512, 768, 0, 0, 4, 64, 33, 64, 1));
    assertThrows(IllegalArgumentException.class, () -> new MoeRouteParams(256, 512, 768, 0, 0, 4, 8, 2, 7, 1),
        "a logit row narrower than the experts");
  }

  @Test
  void thePermutationIsOneCtaWhateverTheBatch() {
    MoePermuteParams p = new MoePermuteParams(256, 512, 768, 0, 1024, 1280, 0, 4096, 128, 8);
    assertEquals(1, p.launch().ctas());
    assertEquals(256, p.launch().threads());
    assertEquals(80, MoePermuteParams.LAYOUT.size());
    assertEquals(0, p.active(), "no list of routed experts unless asked");
  }

  @Test
  void expertGemmGridsCoverEveryExpertAndEveryOutputTile() {
    // Mixtral: gate_up writes 14336 act columns, 8 a CTA; down 4096 hidden columns, 16 a CTA.
    MoeExpertGemmParams gu = MoeExpertGemmParams.gateUp(256, 512, 768, 1024, 1280, 14336, 4096, 4096, 8);
    LaunchShape g = gu.launch(Kernel.MOE_EXPERTS_GATE_UP, 64);
    assertEquals(14336 / 8, g.gridX());
    assertEquals(8, g.gridY(), "one row of CTAs per expert; idle experts' exit");
    MoeExpertGemmParams dn = MoeExpertGemmParams.down(256, 512, 768, 1024, 4096, 14336, 8);
    assertEquals(4096 / 16, dn.launch(Kernel.MOE_EXPERTS_DOWN, 64).gridX());
    // A hidden size off the tile: the last CTA's warps past n write nothing.
    assertEquals(9, MoeExpertGemmParams.down(256, 512, 768, 1024, 136, 120, 8).launch(Kernel.MOE_EXPERTS_DOWN, 64)
        .gridX());
    assertEquals(128, MoeExpertGemmParams.down(256, 512, 768, 1024, 2048, 768, 128).launch(Kernel.MOE_EXPERTS_DOWN, 64)
        .gridY());
    assertEquals(64, MoeExpertGemmParams.LAYOUT.size());
    // An expert-parallel rank of a group as wide as the layer (ep=8 on 8 experts) holds one expert.
    assertEquals(1, MoeExpertGemmParams.down(256, 512, 768, 1024, 4096, 14336, 1).launch(Kernel.MOE_EXPERTS_DOWN, 64)
        .gridY());
    assertEquals(1, MoeExpertGemmParams.gateUp(256, 512, 768, 1024, 1280, 14336, 4096, 4096, 1)
        .launch(Kernel.MOE_EXPERTS_GATE_UP_TC, 256).gridZ());
    assertThrows(IllegalArgumentException.class, () -> MoeExpertGemmParams.down(256, 512, 768, 1024, 4096, 14336, 0));
    assertThrows(IllegalArgumentException.class,
        () -> MoeExpertGemmParams.down(256, 512, 768, 1024, 4096, 14336, 257));
  }

  @Test
  void withTheListOfRoutedExpertsTheCudaCoreGridsCoverOnlyTheExpertsAStepCanReach() {
    // Qwen3-30B-A3B: 128 experts, top-8; gate_up 768 act columns (8 a CTA), down 2048 columns (16 a CTA).
    MoeExpertGemmParams gu = MoeExpertGemmParams.gateUp(256, 512, 768, 1024, 1280, 768, 2048, 2048, 128);
    MoeExpertGemmParams listed = gu.withActive(4096);
    assertEquals(4096, listed.active());
    assertEquals(128, gu.launch(Kernel.MOE_EXPERTS_GATE_UP, 1, 8).gridY(), "no list: every expert");
    assertEquals(8, listed.launch(Kernel.MOE_EXPERTS_GATE_UP, 1, 8).gridY(), "batch 1 reaches 8 experts");
    assertEquals(96, listed.launch(Kernel.MOE_EXPERTS_GATE_UP, 1, 8).gridX());
    assertEquals(64, listed.launch(Kernel.MOE_EXPERTS_GATE_UP, 8, 8).gridY());
    assertEquals(128, listed.launch(Kernel.MOE_EXPERTS_GATE_UP, 64, 8).gridY(), "never more rows than experts");
    MoeExpertGemmParams dn = MoeExpertGemmParams.down(256, 512, 768, 1024, 2048, 768, 128).withActive(4096);
    assertEquals(new LaunchShape(128, 16, 1, Kernel.MOE_EXPERTS_DOWN.threads(), 0),
        dn.launch(Kernel.MOE_EXPERTS_DOWN, 2, 8));
    // The tensor-core kernels keep their (tiles, row tiles, experts) grid: they read no list.
    assertEquals(gu.launch(Kernel.MOE_EXPERTS_GATE_UP_TC, 256), listed.launch(Kernel.MOE_EXPERTS_GATE_UP_TC, 256, 8));
    assertThrows(IllegalArgumentException.class, () -> gu.withActive(0));
    assertThrows(IllegalArgumentException.class, () -> listed.launch(Kernel.MOE_EXPERTS_GATE_UP, 1, 0));
  }

  @Test
  void expertGemmsRefuseAKOfPartialVectorsAndTheGateUpWithoutItsGather() {
    assertThrows(IllegalArgumentException.class,
        () -> MoeExpertGemmParams.gateUp(256, 512, 768, 1024, 1280, 96, 100, 100, 8));
    assertThrows(IllegalArgumentException.class,
        () -> MoeExpertGemmParams.gateUp(256, 512, 768, 1024, 0, 96, 128, 128, 8));
    MoeExpertGemmParams down = MoeExpertGemmParams.down(256, 512, 768, 1024, 128, 96, 8);
    assertThrows(IllegalArgumentException.class, () -> down.launch(Kernel.MOE_EXPERTS_GATE_UP, 8));
    assertThrows(IllegalArgumentException.class, () -> down.launch(Kernel.MOE_EXPERTS_GATE_UP_TC, 512));
    assertThrows(IllegalArgumentException.class, () -> down.launch(Kernel.MOE_ROUTE, 8));
  }

  @Test
  void theCombineRunsEveryLaunchedRowSoPaddingRowsAreWrittenToo() {
    MoeCombineParams p = new MoeCombineParams(256, 512, 768, 1024, 1280, 24, 4096, 2);
    assertEquals(2, p.launch().gridX(), "4096 / 8 vectors, 256 a CTA");
    assertEquals(24, p.launch().gridY());
    assertEquals(72, MoeCombineParams.LAYOUT.size());
    assertThrows(IllegalArgumentException.class, () -> new MoeCombineParams(256, 512, 768, 1024, 0, 1, 100, 2));
  }

  /** An expert-parallel rank's combine names its expert range and writes float32; the layout matches moe.cu's. */
  @Test
  void anExpertParallelPartialReadsTheRoutingAndWritesFloat32() {
    MoeCombineParams p = MoeCombineParams.partial(256, 512, 768, 1024, 1280, 1536, 8, 4096, 2, 4, 8);
    assertEquals(1, p.outF32());
    assertEquals(1536, p.experts());
    assertEquals(40, offset("experts"));
    assertEquals(60, offset("expertLo"));
    assertEquals(68, offset("outF32"));
    assertEquals(0, new MoeCombineParams(256, 512, 768, 1024, 0, 1, 128, 2).outF32());
    assertThrows(IllegalArgumentException.class,
        () -> MoeCombineParams.partial(256, 512, 768, 1024, 1280, 0, 8, 4096, 2, 4, 8));
    assertThrows(IllegalArgumentException.class,
        () -> MoeCombineParams.partial(256, 512, 768, 1024, 1280, 1536, 8, 4096, 2, 4, 4));
  }

  /**
   * From 128 launched rows, or 8 routed rows an expert, the tensor-core kernels run: a grid of (output tiles, ceil(rows / 128), experts),
   * as if every row went to each expert; the gate_up tile is 64 act columns (its B tile 64 gate + 64 up rows).
   */
  @Test
  void tensorCoreGridsCoverEveryRowTileOfEveryExpertFromTheirRowThreshold() {
    // 128 experts, top-8 (Qwen3-30B-A3B): 127 rows are 7.9 a expert, CUDA cores; from 128 rows tensor cores.
    assertEquals(Kernel.MOE_EXPERTS_GATE_UP, MoeExpertGemmParams.gateUpKernel(127, 8, 128));
    assertEquals(Kernel.MOE_EXPERTS_GATE_UP_TC, MoeExpertGemmParams.gateUpKernel(128, 8, 128));
    assertEquals(Kernel.MOE_EXPERTS_DOWN_TC, MoeExpertGemmParams.downKernel(8192, 8, 128));
    // 8 experts, top-2 (Mixtral): 8 rows an expert from 32 rows.
    assertEquals(Kernel.MOE_EXPERTS_DOWN, MoeExpertGemmParams.downKernel(31, 2, 8));
    assertEquals(Kernel.MOE_EXPERTS_DOWN_TC, MoeExpertGemmParams.downKernel(32, 2, 8));
    assertEquals(Kernel.MOE_EXPERTS_GATE_UP_TC, MoeExpertGemmParams.gateUpKernel(32, 2, 8));
    // 256 experts, top-1: 128 rows reach tensor cores by the row count alone.
    assertEquals(Kernel.MOE_EXPERTS_GATE_UP_TC, MoeExpertGemmParams.gateUpKernel(128, 1, 256));
    assertEquals(Kernel.MOE_EXPERTS_GATE_UP, MoeExpertGemmParams.gateUpKernel(127, 1, 256));
    MoeExpertGemmParams gu = MoeExpertGemmParams.gateUp(256, 512, 768, 1024, 1280, 14336, 4096, 4096, 8);
    LaunchShape g = gu.launch(Kernel.MOE_EXPERTS_GATE_UP_TC, 8192);
    assertEquals(14336 / 64, g.gridX());
    assertEquals(64, g.gridY(), "8192 rows in tiles of 128");
    assertEquals(8, g.gridZ());
    assertEquals(256, g.threads());
    assertEquals(64 * 1024, g.sharedBytes());
    LaunchShape d = MoeExpertGemmParams.down(256, 512, 768, 1024, 136, 120, 8).launch(Kernel.MOE_EXPERTS_DOWN_TC, 129);
    assertEquals(2, d.gridX(), "136 columns: one full tile and a partial one");
    assertEquals(2, d.gridY(), "129 rows: a full row tile and one row");
  }

  private static int offset(String field) {
    return MoeCombineParams.LAYOUT.fields().stream().filter(f -> f.name().equals(field)).findFirst().orElseThrow()
        .offset();
  }
}
