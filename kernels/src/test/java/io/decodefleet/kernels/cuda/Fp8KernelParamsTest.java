package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The FP8 kernels' parameter mirrors: what they refuse and the grids they launch. */
class Fp8KernelParamsTest {

  @Test
  void theGemmCoversEveryWeightRowAndXRowWithItsTiles() {
    Fp8GemmParams p = new Fp8GemmParams(256, 512, 1024, 2048, 17, 1001, 4096, 1001, 1, 0);
    LaunchShape s = p.launch();
    assertEquals((1001 + 7) / 8, s.gridX());
    assertEquals(3, s.gridY(), "17 x rows in tiles of 8");
    assertEquals(128, s.threads());
    assertEquals(0, s.sharedBytes());
    assertEquals(56, Fp8GemmParams.LAYOUT.size());
  }

  @Test
  void theGemmRefusesAKOfPartialVectorsAndABadScaleStride() {
    IllegalArgumentException k = assertThrows(IllegalArgumentException.class,
        () -> new Fp8GemmParams(256, 512, 1024, 2048, 1, 8, 24, 8, 1, 0));
    assertTrue(k.getMessage().contains("k"), k.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Fp8GemmParams(256, 512, 1024, 2048, 1, 8, 32, 8, 2, 0));
    assertThrows(IllegalArgumentException.class, () -> new Fp8GemmParams(256, 512, 1024, 2048, 1, 8, 32, 4, 1, 0));
  }

  @Test
  void theFp8AttentionChecksWhatThePlainOneChecksAndItsScales() {
    PagedAttentionFp8Params p = new PagedAttentionFp8Params(256, 512, 768, 1024, 1280, 1536, 1792, 5, 8, 2, 128, 16,
        0.088f, 0.5f, 2f);
    assertEquals(5, p.launch().gridX());
    assertEquals(8, p.launch().gridY());
    assertEquals(88, PagedAttentionFp8Params.LAYOUT.size());
    assertThrows(IllegalArgumentException.class, () -> new PagedAttentionFp8Params(256, 512, 768, 1024, 1280, 1536,
        1792, 5, 8, 3, 128, 16, 0.088f, 0.5f, 2f));
    assertThrows(IllegalArgumentException.class, () -> new PagedAttentionFp8Params(256, 512, 768, 1024, 1280, 1536,
        1792, 5, 8, 2, 128, 16, 0.088f, 0f, 2f));
  }

  @Test
  void decodeAttentionOverAnFp8CacheRunsTheFp8KernelsWithItsScalesAndTheBf16CombineAndLayout() {
    DecodeAttentionParams bf16 = new DecodeAttentionParams(256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304, 2560,
        2816, 4, 32, 8, 128, 16, 4, 64, 256, 40, 0.127f);
    assertEquals(1f, bf16.kScale());
    assertEquals(1f, bf16.vScale());
    DecodeAttentionParams fp8 = bf16.withKvScales(0.25f, 2f);
    assertEquals(0.25f, fp8.kScale());
    assertEquals(2f, fp8.vScale());
    assertEquals(bf16.scaleLog2(), fp8.scaleLog2());
    assertEquals(Kernel.DECODE_ATTENTION_FP8_D128, fp8.kernel(false, true));
    assertEquals(Kernel.DECODE_ATTENTION_PERSISTENT_FP8_D128, fp8.kernel(true, true));
    assertEquals(Kernel.DECODE_ATTENTION_D128, fp8.kernel(false, false));
    assertEquals(136, DecodeAttentionParams.LAYOUT.size());
    assertEquals(136, DecodeAttentionGraphParams.LAYOUT.size());
    // Codes of K and V only (4 stages at D 128: 64 KiB, three CTAs an SM; 6 at D 64: 48 KiB, four).
    assertEquals(64 * 1024, Kernel.DECODE_ATTENTION_FP8_D128.sharedBytes());
    assertEquals(64 * 1024, Kernel.DECODE_ATTENTION_GRAPH_FP8_D128.sharedBytes());
    assertEquals(48 * 1024, Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_FP8_D64.sharedBytes());
    assertThrows(IllegalArgumentException.class, () -> bf16.withKvScales(0f, 1f));
    DecodeAttentionGraphParams g = new DecodeAttentionGraphParams(256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304,
        2560, 2816, 3072, 4, 16, 4, 64, 32, 5, 0.18f).withKvScales(0.5f, 0.125f);
    assertEquals(Kernel.DECODE_ATTENTION_GRAPH_FP8_D64, g.kernel(false, true));
    assertEquals(Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_FP8_D64, g.kernel(true, true));
    assertEquals(0.125f, g.vScale());
  }

  @Test
  void theFp8AppendKeepsTheBf16AppendsChecksAndAddsItsScales() {
    RopeKvParams plain = new RopeKvParams(256, 512, 768, 1024, 1280, 1536, 1792, 2048, 17, 32, 8, 128, 6144, 6144,
        6144, 8192);
    RopeKvFp8Params p = RopeKvFp8Params.of(plain, 0.5f, 3f);
    assertEquals(17, p.launch().gridX());
    assertEquals(160, RopeKvFp8Params.LAYOUT.size());
    assertEquals(0.5f, p.kScale());
    assertEquals(0L, p.qNorm());
    assertEquals(0L, p.qOut(), "q rotated in place unless told otherwise");
    RopeKvFp8Params packed = RopeKvFp8Params.of(plain.withQOut(9984, 4096), 0.5f, 3f);
    assertEquals(9984, packed.qOut());
    assertEquals(4096, packed.qOutStride());
    assertThrows(IllegalArgumentException.class, () -> plain.withQOut(9984, 4088), "a q row under 32 heads of 128");
    assertThrows(IllegalArgumentException.class, () -> RopeKvFp8Params.of(plain, 1f, Float.NaN));
  }

  @Test
  void qkNormsAreBothOrNeitherAndTheFp8AppendKeepsThem() {
    RopeKvParams plain = new RopeKvParams(256, 512, 768, 1024, 1280, 1536, 1792, 2048, 17, 32, 4, 128, 5120, 5120,
        5120, 8192);
    assertEquals(152, RopeKvParams.LAYOUT.size());
    assertFalse(plain.qkNorm());
    RopeKvParams normed = plain.withQkNorm(4096, 4352, 1e-6f);
    assertTrue(normed.qkNorm());
    RopeKvFp8Params f = RopeKvFp8Params.of(normed, 0.5f, 3f);
    assertEquals(4096, f.qNorm());
    assertEquals(4352, f.kNorm());
    assertEquals(1e-6f, f.eps());
    assertThrows(IllegalArgumentException.class, () -> plain.withQkNorm(4096, 0, 1e-6f), "k norm missing");
    assertThrows(IllegalArgumentException.class, () -> new RopeKvParams(256, 512, 768, 1024, 1280, 1536, 1792, 2048,
        4096, 0, 0, 0, 0, 0, 17, 32, 4, 128, 5120, 5120, 5120, 8192, 0, 1e-6f), "one norm without the other");
    assertThrows(IllegalArgumentException.class, () -> plain.withQkNorm(4096, 4352, Float.NaN), "eps");
    IllegalArgumentException heads = assertThrows(IllegalArgumentException.class, () -> new RopeKvParams(256, 512,
        768, 1024, 1280, 1536, 1792, 2048, 17, 256, 8, 128, 33792, 33792, 33792, 8192).withQkNorm(4096, 4352, 1e-6f));
    assertEquals("qHeads + kvHeads with q/k norms must be <= 256 but is 264", heads.getMessage());
  }

  @Test
  void attentionBiasesAreAllOrNoneAndTheFp8AppendKeepsThem() {
    RopeKvParams plain = new RopeKvParams(256, 512, 768, 1024, 1280, 1536, 1792, 2048, 17, 28, 4, 128, 4608, 4608,
        4608, 8192);
    assertFalse(plain.biases());
    RopeKvParams biased = plain.withBiases(4096, 4352, 4608);
    assertTrue(biased.biases());
    assertFalse(biased.qkNorm());
    RopeKvFp8Params f = RopeKvFp8Params.of(biased.withQkNorm(8192, 8448, 1e-6f), 0.5f, 3f);
    assertEquals(4096, f.qBias());
    assertEquals(4352, f.kBias());
    assertEquals(4608, f.vBias());
    assertEquals(8448, f.kNorm());
    assertThrows(IllegalArgumentException.class, () -> plain.withBiases(4096, 4352, 0), "v bias missing");
    IllegalArgumentException one = assertThrows(IllegalArgumentException.class, () -> new RopeKvParams(256, 512, 768,
        1024, 1280, 1536, 1792, 2048, 0, 0, 4096, 0, 0, 0, 17, 28, 4, 128, 4608, 4608, 4608, 8192, 0, 0f));
    assertEquals("qBias, kBias and vBias must all be set or all be 0 but are 4096, 0 and 0", one.getMessage());
  }

  @Test
  void fp8WeightParamsRefuseWhatTheirKernelsCannotDo() {
    DummyWeightsParams w = DummyWeightsParams.of(256, 4096, 7L, 11L, 0, 0.02f, 0f);
    DummyWeightsFp8Params p = DummyWeightsFp8Params.of(w, 512, 768, 64);
    assertEquals(4096, p.n());
    assertEquals(7, p.seedLo());
    assertEquals(80, DummyWeightsFp8Params.LAYOUT.size());
    assertThrows(IllegalArgumentException.class, () -> DummyWeightsFp8Params.of(w, 512, 768, 4097), "rows past n");
    Fp8DequantParams d = new Fp8DequantParams(256, 512, 768, 6144, 4096, 1);
    assertEquals(40, Fp8DequantParams.LAYOUT.size());
    assertEquals(6144, d.launch().gridX(), "6144 x 256 vectors of 16 codes, 256 a CTA");
    assertEquals(8192, new Fp8DequantParams(256, 512, 768, 28672, 4096, 1).launch().gridX(), "capped at 8192 CTAs");
    assertEquals(1, new Fp8DequantParams(256, 512, 768, 2, 16, 0).launch().gridX());
    assertThrows(IllegalArgumentException.class, () -> new Fp8DequantParams(256, 512, 768, 2, 24, 1));
  }

  @Test
  void quantizeRowsParamsPackAsTheStructAndRunACtaARow() {
    Fp8QuantizeRowsParams q = new Fp8QuantizeRowsParams(256, 512, 768, 300, 14336, 14336);
    assertEquals(40, Fp8QuantizeRowsParams.LAYOUT.size());
    byte[] b = q.pack();
    java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    assertEquals(256, bb.getLong(0));
    assertEquals(512, bb.getLong(8));
    assertEquals(768, bb.getLong(16));
    assertEquals(300, bb.getInt(24));
    assertEquals(14336, bb.getInt(28));
    assertEquals(14336, bb.getInt(32));
    assertEquals(300, q.launch().gridX());
    assertEquals(Kernel.FP8_QUANTIZE_ROWS.threads(), q.launch().threads());
    assertThrows(IllegalArgumentException.class, () -> new Fp8QuantizeRowsParams(256, 512, 768, 1, 24, 24), "k % 16");
    assertThrows(IllegalArgumentException.class, () -> new Fp8QuantizeRowsParams(256, 512, 768, 1, 32, 16),
        "stride under cols");
    assertThrows(IllegalArgumentException.class, () -> new Fp8QuantizeRowsParams(0, 512, 768, 1, 32, 32));
  }

  @Test
  void theFp8SkinnyGemmRunsTheBf16PlanOnItsOwnKernelWithHalfTheWeightTile() {
    SkinnyGemmPlan plan = SkinnyGemmPlan.plan(64, 6144, 4096, 264);
    SkinnyGemmFp8Params p = SkinnyGemmFp8Params.of(plan, 256, 512, 768, 1024, 1280, 1536, 6144, false);
    assertEquals(Kernel.SKINNY_GEMM_FP8_M64, SkinnyGemmFp8Params.kernelFor(plan));
    assertEquals(Kernel.SKINNY_GEMM_FP8_M8, SkinnyGemmFp8Params.kernelFor(SkinnyGemmPlan.plan(3, 4096, 4096, 264)));
    LaunchShape s = SkinnyGemmFp8Params.launch(plan);
    assertEquals(plan.launch().gridX(), s.gridX());
    assertEquals(plan.launch().gridY(), s.gridY());
    assertEquals(plan.splits(), p.splits());
    // The x tile is the bf16 kernel's, the weight tile half of it.
    int bf16 = Kernel.SKINNY_GEMM_M64.sharedBytes();
    assertEquals(bf16 - 2 * 128 * 64 * 2, s.sharedBytes());
    assertEquals(80, SkinnyGemmFp8Params.LAYOUT.size());
    assertThrows(IllegalArgumentException.class, () -> SkinnyGemmFp8Params.of(SkinnyGemmPlan.plan(1, 64, 40, 264), 256,
        512, 768, 1024, 1280, 1536, 64, false), "k of a partial 16-code vector");
  }

  @Test
  void fortyEightKibOfDynamicSharedMemoryBesideAStaticVariableNeedsTheOptIn() {
    // The persistent FP8 d64 kernels ask for exactly the default 48 KiB and hold a static int: without the
    // opt-in no CTA of them fits an SM (every head-dim-64 model failed to load on an H200 so).
    Kernel k = Kernel.DECODE_ATTENTION_PERSISTENT_FP8_D64;
    assertEquals(Kernel.DEFAULT_SHARED_LIMIT, k.sharedBytes());
    assertFalse(k.needsSharedOptIn());
    assertFalse(k.needsSharedOptIn(0));
    assertTrue(k.needsSharedOptIn(4));
    // Above the limit the opt-in is needed whatever the static part; without dynamic memory never.
    assertTrue(Kernel.DECODE_ATTENTION_FP8_D128.needsSharedOptIn(0));
    assertFalse(Kernel.FP8_GEMM.needsSharedOptIn(64 * 1024));
  }

  @Test
  void gemvTakesOneRowAWarpARowAndXAsFloat32InSharedMemory() {
    GemvFp8Params p = GemvFp8Params.resident(256, 512, 768, 1024, 6144, 4096, 6144, false);
    assertEquals(1, p.earlyWeights());
    assertEquals(96, p.pack().length);
    assertEquals(0L, p.normWeight(), "a plain row: no norm in front");
    assertEquals(0, p.swigluOut(), "a plain row: no SwiGLU behind");
    assertEquals(0, p.taskWarps(), "the warp-a-row kernel until planned on the tensor cores");
    assertThrows(IllegalArgumentException.class,
        () -> new GemvFp8Params(256, 512, 0, 0, 0, 768, 1024, 64, 4096, 64, 0, 0, 0f, 0, 3, 0, 0), "3 warps a task");
    assertThrows(IllegalArgumentException.class,
        () -> new GemvFp8Params(256, 512, 0, 0, 0, 768, 1024, 64, 4608 + 16, 64, 0, 0, 0f, 0, 8, 0, 0),
        "k off the tensor-core variant's 512");
    GemvFp8Params normed = p.withNorm(1024, 1280, 1536, 1e-5f);
    assertEquals(1536, normed.normWeight());
    assertEquals(1024, normed.residual());
    assertEquals(1280, normed.residualOut());
    assertThrows(IllegalArgumentException.class, () -> p.withNorm(1024, 1024, 1536, 1e-5f),
        "the new residual over the one other CTAs read");
    assertThrows(IllegalArgumentException.class, () -> p.withNorm(1024, 1280, 1536, 0f), "eps 0");
    assertThrows(IllegalArgumentException.class,
        () -> new GemvFp8Params(256, 512, 1280, 1024, 0, 768, 2048, 6144, 4096, 6144, 0, 1, 0f, 0, 0, 0, 0),
        "residual without a norm");
    GemvFp8Params gateUp = GemvFp8Params.swigluOut(256, 512, 768, 1024, 28672, 4096, 14336).withNorm(1024, 1280,
        1536, 1e-5f);
    assertEquals(1, gateUp.swigluOut());
    assertEquals(1536, gateUp.normWeight(), "a norm in front and SwiGLU behind at once");
    assertEquals(396, gateUp.launch(396).gridX(), "14336 (gate, up) pairs over 8 warps a CTA, capped");
    assertEquals(63, GemvFp8Params.swigluOut(256, 512, 768, 1024, 1006, 528, 503).launch(396).gridX(),
        "503 pairs: 63 CTAs of 8 warps");
    assertThrows(IllegalArgumentException.class, () -> GemvFp8Params.swigluOut(256, 512, 768, 1024, 1003, 528, 1003),
        "odd rows");
    assertThrows(IllegalArgumentException.class, () -> GemvFp8Params.swigluOut(256, 512, 768, 1024, 1006, 528, 502),
        "outStride under the 503 activations");
    assertThrows(IllegalArgumentException.class,
        () -> new GemvFp8Params(256, 512, 0, 0, 0, 768, 1024, 1006, 528, 1006, 1, 1, 0f, 1, 0, 0, 0), "float32 out");
    LaunchShape wide = p.launch(396);
    assertEquals(396, wide.gridX(), "768 CTAs of 8 rows capped at the CTAs the GPU holds: the warps walk the rest");
    assertEquals(256, wide.threads());
    assertEquals(4096 * 4, wide.sharedBytes());
    LaunchShape partGroup = GemvFp8Params.resident(256, 512, 768, 1024, 1003, 528, 1003, true).launch(396);
    assertEquals(126, partGroup.gridX());
    assertEquals(2 * 512 * 4, partGroup.sharedBytes(), "33 vectors of x: two whole groups of 32 in shared memory");
    assertEquals(14336 * 4, GemvFp8Params.resident(256, 512, 768, 1024, 4096, 14336, 4096, false).launch(396)
        .sharedBytes());
    assertTrue(GemvFp8Params.supports(1, 16384));
    assertFalse(GemvFp8Params.supports(2, 4096));
    assertFalse(GemvFp8Params.supports(1, 4104));
    assertThrows(IllegalArgumentException.class,
        () -> GemvFp8Params.resident(256, 512, 776, 1024, 64, 4096, 64, false), "codes off 16 bytes");
    assertThrows(IllegalArgumentException.class,
        () -> GemvFp8Params.resident(256, 512, 768, 1024, 64, 16400, 64, false), "k past 16384");
    assertThrows(IllegalArgumentException.class,
        () -> GemvFp8Params.resident(256, 512, 768, 1024, 64, 4096, 63, false), "outStride below n");
  }

  @Test
  void theTensorCoreGemvTakesTheWarpsATaskThatLoadTheBusiestSmLeast() {
    GemvFp8Params.Slots slots = (kernel, shared) -> kernel == Kernel.GEMV_FP8_MMA_M1 ? 528 : 396;
    GemvFp8Params qkv = GemvFp8Params.resident(256, 512, 768, 1024, 6144, 4096, 6144, false);
    GemvFp8Params.Launch l = qkv.plan(true, slots, 132);
    assertEquals(Kernel.GEMV_FP8_MMA_M1, l.kernel());
    assertEquals(4, l.params().taskWarps(), "768 tasks: 8 warps each would need 768 CTAs, 4 need 384");
    assertEquals(384, l.shape().gridX());
    assertEquals(4096 * 2, l.shape().sharedBytes(), "x as bf16");
    assertEquals(256, l.shape().threads());
    assertEquals(96, l.params().pack().length);
    GemvFp8Params o = GemvFp8Params.resident(256, 512, 768, 1024, 4096, 4096, 4096, false);
    assertEquals(8, o.plan(true, slots, 132).params().taskWarps(), "512 tasks, 512 CTAs of 8 warps");
    assertEquals(512, o.plan(true, slots, 132).shape().gridX());
    GemvFp8Params gateUp = GemvFp8Params.swigluOut(256, 512, 768, 1024, 28672, 4096, 14336);
    GemvFp8Params.Launch g = gateUp.plan(true, slots, 132);
    assertEquals(4, g.params().taskWarps(),
        "1792 tasks of 8 (gate, up) pairs: 2 warps each is one round of 448 CTAs, 4 on some SMs, 4 two rounds of"
            + " 528 and 368 busy, at most 4 + 3 half tasks an SM");
    assertEquals(528, g.shape().gridX());
    GemvFp8Params head = GemvFp8Params.resident(256, 512, 768, 1024, 128256, 1024, 128256, false);
    GemvFp8Params.Launch h = head.plan(true, slots, 132);
    assertEquals(4, h.params().taskWarps(), "16032 tasks: many rounds whatever the warps; 4 spread the last best");
    assertEquals(528, h.shape().gridX(), "capped at the slots: the groups walk the tasks");
    GemvFp8Params.Launch plain = qkv.plan(false, slots, 132);
    assertEquals(Kernel.GEMV_FP8_M1, plain.kernel(), "the tensor cores not asked for");
    assertEquals(0, plain.params().taskWarps());
    assertEquals(396, plain.shape().gridX(), "the warp-a-row kernel's own slots");
    GemvFp8Params odd = GemvFp8Params.resident(256, 512, 768, 1024, 1003, 4096, 1003, false);
    assertEquals(Kernel.GEMV_FP8_M1, odd.plan(true, slots, 132).kernel(), "1003 rows: no whole 8-row tasks");
    GemvFp8Params shallow = GemvFp8Params.resident(256, 512, 768, 1024, 1000, 528, 1000, false);
    assertEquals(Kernel.GEMV_FP8_M1, shallow.plan(true, slots, 132).kernel(), "k 528: not whole 64-code slices");
    // fp8-dynamic: codes by codes on the x-codes kernel whatever mma says, its row as bf16 then codes.
    GemvFp8Params.Launch x8 = qkv.withXCodes().plan(false, slots, 132);
    assertEquals(Kernel.GEMV_FP8X8_MMA_M1, x8.kernel());
    assertEquals(4096 * 3, x8.shape().sharedBytes());
    assertEquals(1, x8.params().xCodes());
    assertEquals(96, x8.params().pack().length, "xCodes sits in what was the struct's tail padding");
    assertEquals(1, java.nio.ByteBuffer.wrap(x8.params().pack()).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(92));
    assertThrows(IllegalArgumentException.class, () -> odd.withXCodes(), "no whole 8-row tasks: no x-codes kernel");
    assertThrows(IllegalArgumentException.class,
        () -> GemvFp8Params.residentBf16(256, 512, 768, 6144, 4096, 6144, false, false).withXCodes(), "bf16 weights");
    assertTrue(GemvFp8Params.mmaFits(14336, 4096));
    assertFalse(GemvFp8Params.mmaFits(503, 4096));
    assertFalse(GemvFp8Params.mmaFits(4096, 4608 + 16));
    // Over bf16 weights: the one kernel that takes them, k a multiple of 256, no scales.
    GemvFp8Params bf16 = GemvFp8Params.residentBf16(256, 512, 768, 6144, 4096, 6144, false, false);
    GemvFp8Params.Launch b = bf16.plan(false, slots, 132);
    assertEquals(Kernel.GEMV_BF16_MMA_M1, b.kernel(), "whatever mma says");
    assertEquals(4, b.params().taskWarps());
    assertEquals(1, b.params().bf16Weights());
    assertEquals(0L, b.params().scale());
    assertTrue(GemvFp8Params.mmaFitsBf16(4096, 768));
    assertFalse(GemvFp8Params.mmaFitsBf16(4096, 528));
    assertThrows(IllegalArgumentException.class,
        () -> GemvFp8Params.residentBf16(256, 512, 768, 1000, 528, 1000, false, false), "k 528 over bf16 weights");
    assertThrows(IllegalArgumentException.class,
        () -> new GemvFp8Params(256, 512, 0, 0, 0, 768, 1024, 64, 4096, 64, 0, 1, 0f, 0, 0, 1, 0), "bf16 with scales");
    GemvFp8Params gate = GemvFp8Params.residentBf16(256, 512, 768, 28672, 4096, 14336, false, true);
    assertEquals(4, gate.plan(true, slots, 132).params().taskWarps(),
        "1792 tasks on 396 slots: 1 warp each leaves 224 CTAs, 2 on most SMs; 4 spread three rounds over all");
    assertEquals(396, gate.plan(true, slots, 132).shape().gridX());
    assertEquals(2, gate.plan(true, slots, 132, 2).params().taskWarps(), "asked for");
    assertEquals(396, gate.plan(true, slots, 132, 2).shape().gridX());
    assertThrows(IllegalArgumentException.class, () -> gate.plan(true, slots, 132, 3));
  }

  @Test
  void theBalancedPlanWeighsTheBusiestSmOfTheFullAndTheLastRounds() {
    // Llama-3-8B's bf16 gate_up without SwiGLU behind: 3584 tasks on 396 slots of 132 SMs. W = 1: one full round
    // of 3168 tasks, then 416 on 52 CTAs (8 + 8 tasks an SM at most); W = 2: two rounds and 416 on 104 CTAs
    // (3 * 8 * 2 + 8 slices of half a task = 28 tasks); W = 4 and 8 also 28 in more rounds.
    assertEquals(2, GemvFp8Params.balancedTaskWarps(3584, 396, 132));
    assertEquals(4, GemvFp8Params.balancedTaskWarps(768, 528, 132), "qkv: one round of 384 CTAs");
    assertEquals(8, GemvFp8Params.balancedTaskWarps(512, 528, 132), "o: 512 CTAs, one round");
    assertEquals(4, GemvFp8Params.balancedTaskWarps(512, 396, 132), "o at 3 an SM: W = 8 would take two rounds");
    assertEquals(8, GemvFp8Params.balancedTaskWarps(1, 528, 132), "one task: its 8 warps");
    assertThrows(IllegalArgumentException.class, () -> GemvFp8Params.balancedTaskWarps(512, 396, 0));
  }

  @Test
  void theWgmmaSkinnyGemmTakesTheM64PlanWithItsOwnBlockAndSharedMemory() {
    SkinnyGemmPlan plan = SkinnyGemmPlan.plan(64, 4096, 4096, 264);
    assertTrue(SkinnyGemmFp8Params.wgmmaTakes(plan));
    LaunchShape s = SkinnyGemmFp8Params.wgmmaLaunch(plan);
    assertEquals(plan.launch().gridX(), s.gridX());
    assertEquals(plan.splits(), s.gridY());
    assertEquals(plan.mTiles(), s.gridZ());
    assertEquals(256, s.threads());
    assertEquals(6 * 16384 + 1024, s.sharedBytes());
    assertEquals(128, plan.rowsPerCta(), "the kernel's 128 weight rows a CTA");
    assertEquals(64, plan.mTile(), "and its 64 x rows");
    assertEquals(4, SkinnyGemmFp8Params.wgmmaLaunch(SkinnyGemmPlan.plan(256, 6144, 4096, 264)).gridZ());
    assertFalse(SkinnyGemmFp8Params.wgmmaTakes(SkinnyGemmPlan.plan(32, 4096, 4096, 264)));
    assertThrows(IllegalArgumentException.class,
        () -> SkinnyGemmFp8Params.wgmmaLaunch(SkinnyGemmPlan.plan(16, 4096, 4096, 264)));
  }
}

