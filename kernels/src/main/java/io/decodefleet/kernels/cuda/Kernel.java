package io.decodefleet.kernels.cuda;

/**
 * The catalog of kernels in {@code decodefleet.fatbin}: symbol, parameter struct, block size and
 * dynamic shared memory. The shared-memory figures restate the {@code kSmemBytes} constants of the
 * CUDA sources (given here as their formulas); a kernel launched with less would read past its
 * allocation, which the self-test would catch as a launch failure.
 */
public enum Kernel {
  EMBEDDING("df_embedding", EmbeddingParams.class, 128, 0),
  RMSNORM("df_rmsnorm", RmsNormParams.class, 256, 0),
  ROPE_KV_APPEND("df_rope_kv_append", RopeKvParams.class, 384, 0),
  /** 3 stages x (K + V) x 64 positions x 128 x 2 bytes. */
  DECODE_ATTENTION_D128(
      "df_decode_attention_d128", DecodeAttentionParams.class, 128, 3 * 2 * 64 * 128 * 2),
  /** 4 stages x (K + V) x 64 positions x 64 x 2 bytes. */
  DECODE_ATTENTION_D64(
      "df_decode_attention_d64", DecodeAttentionParams.class, 128, 4 * 2 * 64 * 64 * 2),
  /** (32 + 64 chunks x 16 rows) floats of weights. */
  DECODE_ATTENTION_COMBINE_D128(
      "df_decode_attention_combine_d128", DecodeAttentionParams.class, 128, (32 + 64 * 16) * 4),
  DECODE_ATTENTION_COMBINE_D64(
      "df_decode_attention_combine_d64", DecodeAttentionParams.class, 128, (32 + 64 * 16) * 4),
  DECODE_ATTENTION_PERSISTENT_D128(
      "df_decode_attention_persistent_d128", DecodeAttentionParams.class, 128, 3 * 2 * 64 * 128 * 2),
  DECODE_ATTENTION_PERSISTENT_D64(
      "df_decode_attention_persistent_d64", DecodeAttentionParams.class, 128, 4 * 2 * 64 * 64 * 2),
  /** (Q + 2 stages x (K + V)) x 64 rows x 128 x 2 bytes. */
  PREFILL_ATTENTION_D128(
      "df_prefill_attention_d128", PrefillAttentionParams.class, 128, 5 * 64 * 128 * 2),
  PREFILL_ATTENTION_D64(
      "df_prefill_attention_d64", PrefillAttentionParams.class, 128, 5 * 64 * 64 * 2),
  /**
   * wgmma, sm_90a only (prefill_attention_wgmma.cu): 256 threads, 128 query rows; 1 KB of alignment + 2 Q
   * tiles of 64 rows + 2 K and 2 V slots of 128 keys, head dim 128, bf16 (sm_90 prompts whose grid fills the SMs).
   */
  PREFILL_ATTENTION_WGMMA_D128(
      "df_prefill_attention_wgmma_d128", PrefillAttentionParams.class, 256, 1024 + (2 * 64 + 4 * 128) * 128 * 2),
  /**
   * The wgmma kernel's consumers fed by TMA from a producer warpgroup, sm_90a only (prefill_attention_tma.cu): 384
   * threads; its shared memory plus nine 8-byte mbarriers (DECODEFLEET_PREFILL_ATTENTION_TMA=plain).
   */
  PREFILL_ATTENTION_TMA_D128(
      "df_prefill_attention_tma_d128", PrefillAttentionTmaParams.class, 384, 1024 + (2 * 64 + 4 * 128) * 128 * 2 + 9 * 8),
  /** As {@link #PREFILL_ATTENTION_TMA_D128} with the consumers taking turns to issue their MMAs (the default). */
  PREFILL_ATTENTION_TMA_PP_D128(
      "df_prefill_attention_tma_pp_d128", PrefillAttentionTmaParams.class, 384, 1024 + (2 * 64 + 4 * 128) * 128 * 2 + 9 * 8),
  /** The prefill kernel's tiles (Q + 2 stages x (K + V)) over the paged cache (paged_prefill_attention.cu). */
  PAGED_PREFILL_ATTENTION_D128(
      "df_paged_prefill_attention_d128", PagedPrefillAttentionParams.class, 128, 5 * 64 * 128 * 2),
  PAGED_PREFILL_ATTENTION_D64(
      "df_paged_prefill_attention_d64", PagedPrefillAttentionParams.class, 128, 5 * 64 * 64 * 2),
  /** FP8: a bf16 Q tile, 2 stages x (K + V) x 64 x 128 codes, one bf16 K and V tile: the bf16 total. */
  PAGED_PREFILL_ATTENTION_FP8_D128(
      "df_paged_prefill_attention_fp8_d128", PagedPrefillAttentionParams.class, 128,
      64 * 128 * 2 + 2 * 2 * 64 * 128 + 2 * 64 * 128 * 2),
  PAGED_PREFILL_ATTENTION_FP8_D64(
      "df_paged_prefill_attention_fp8_d64", PagedPrefillAttentionParams.class, 128,
      64 * 64 * 2 + 2 * 2 * 64 * 64 + 2 * 64 * 64 * 2),
  /** stages x (weight rows x 128 + mTile x (128 + 32)) elements x 2 bytes (skinny_gemm.cu). */
  SKINNY_GEMM_M8("df_skinny_gemm_m8", SkinnyGemmParams.class, 128, 3 * (64 * 128 + 8 * 160) * 2),
  SKINNY_GEMM_M16("df_skinny_gemm_m16", SkinnyGemmParams.class, 128, 2 * (64 * 128 + 16 * 160) * 2),
  SKINNY_GEMM_M32(
      "df_skinny_gemm_m32", SkinnyGemmParams.class, 128, 2 * (128 * 128 + 32 * 160) * 2),
  SKINNY_GEMM_M64(
      "df_skinny_gemm_m64", SkinnyGemmParams.class, 128, 2 * (128 * 128 + 64 * 160) * 2),
  /**
   * The second skinny GEMM (skinny2_gemm.cu, m <= 16): 4 stages x (a 64-row x 512-byte weight box
   * + mTile x rows x 576-byte pitch, rounded up to 128 bytes), + 128 to align the ring for the
   * tensor copies, + 8 mbarriers; 4 consumer warps and a producer warp.
   */
  SKINNY2_GEMM_M1("df_skinny2_gemm_m1", Skinny2GemmParams.class, 160, 4 * (64 * 512 + 1 * 576 + 64) + 128 + 64),
  SKINNY2_GEMM_M2("df_skinny2_gemm_m2", Skinny2GemmParams.class, 160, 4 * (64 * 512 + 2 * 576) + 128 + 64),
  SKINNY2_GEMM_M4("df_skinny2_gemm_m4", Skinny2GemmParams.class, 160, 4 * (64 * 512 + 4 * 576) + 128 + 64),
  SKINNY2_GEMM_M8("df_skinny2_gemm_m8", Skinny2GemmParams.class, 160, 4 * (64 * 512 + 8 * 576) + 128 + 64),
  SKINNY2_GEMM_M16("df_skinny2_gemm_m16", Skinny2GemmParams.class, 160, 4 * (64 * 512 + 16 * 576) + 128 + 64),
  /** 4 stages x (A + B) x 128 x 32 x 2 bytes. */
  GEMM("df_gemm", GemmParams.class, 256, 4 * 2 * 128 * 32 * 2),
  /**
   * 4 stages x (x box 128 + w box 256 rows) x 64 x 2 bytes, + 1 KiB to align the ring to the
   * 1024-byte swizzle atom, + 8 mbarriers of 8 bytes (wgmma_gemm.cu; sm_90a only).
   */
  WGMMA_GEMM("df_wgmma_gemm", WgmmaGemmParams.class, 384, 4 * (128 + 256) * 64 * 2 + 1024 + 8 * 8),
  /**
   * 4 stages x (x box 128 x 64 x 2 + code box 256 x 64 bytes), + 3 widened bf16 weight tiles of
   * 256 x 64 x 2 bytes, + 1 KiB of alignment, + 8 mbarriers (wgmma_gemm_fp8.cu; sm_90a only).
   */
  WGMMA_GEMM_FP8("df_wgmma_gemm_fp8", WgmmaGemmFp8Params.class, 384,
      4 * (128 * 64 * 2 + 256 * 64) + 3 * 256 * 64 * 2 + 1024 + 8 * 8),
  SWIGLU("df_swiglu", SwiGluParams.class, 256, 0),
  ARGMAX("df_argmax", ArgmaxParams.class, 512, 0),
  /** Static shared memory only: a 256-bin histogram of uint64 (sample.cu). */
  SAMPLE("df_sample", SampleParams.class, 512, 0),
  KV_PACK("df_kv_pack", KvPackParams.class, 256, 0),
  KV_UNPACK("df_kv_unpack", KvPackParams.class, 256, 0),
  FILL_UNIFORM("df_fill_uniform_bf16", FillParams.class, 256, 0),
  /** The engine's dummy-weight hash, element for element (dummy_weights.cu). */
  DUMMY_WEIGHTS("df_dummy_weights_bf16", DummyWeightsParams.class, 256, 0),
  /** Any head dim up to 256, float32 softmax; static shared memory only (paged_attention.cu). */
  PAGED_ATTENTION("df_paged_attention", PagedAttentionParams.class, 128, 0),
  /** The decode-attention kernels with the step's plan read from memory (graph replays). */
  DECODE_ATTENTION_GRAPH_D128(
      "df_decode_attention_graph_d128", DecodeAttentionGraphParams.class, 128, 3 * 2 * 64 * 128 * 2),
  DECODE_ATTENTION_GRAPH_D64(
      "df_decode_attention_graph_d64", DecodeAttentionGraphParams.class, 128, 4 * 2 * 64 * 64 * 2),
  DECODE_ATTENTION_GRAPH_COMBINE_D128(
      "df_decode_attention_graph_combine_d128", DecodeAttentionGraphParams.class, 128,
      (32 + 64 * 16) * 4),
  DECODE_ATTENTION_GRAPH_COMBINE_D64(
      "df_decode_attention_graph_combine_d64", DecodeAttentionGraphParams.class, 128,
      (32 + 64 * 16) * 4),
  DECODE_ATTENTION_GRAPH_PERSISTENT_D128(
      "df_decode_attention_graph_persistent_d128", DecodeAttentionGraphParams.class, 128,
      3 * 2 * 64 * 128 * 2),
  DECODE_ATTENTION_GRAPH_PERSISTENT_D64(
      "df_decode_attention_graph_persistent_d64", DecodeAttentionGraphParams.class, 128,
      4 * 2 * 64 * 64 * 2),
  /** FP8 e4m3 weights, bf16 activations, float32 accumulation; no shared memory (fp8_gemm.cu). */
  FP8_GEMM("df_fp8_gemm", Fp8GemmParams.class, 128, 0),
  /** {@link #PAGED_ATTENTION} over an FP8 e4m3 KV cache with a scale for K and one for V. */
  PAGED_ATTENTION_FP8("df_paged_attention_fp8", PagedAttentionFp8Params.class, 128, 0),
  /** {@link #ROPE_KV_APPEND} into an FP8 e4m3 cache (rope_kv.cu). */
  ROPE_KV_APPEND_FP8("df_rope_kv_append_fp8", RopeKvFp8Params.class, 384, 0),
  /** FP8: 4 stages x (K + V) x 64 positions x 128 bytes of codes (the MMA fragments are built from them). */
  DECODE_ATTENTION_FP8_D128("df_decode_attention_fp8_d128", DecodeAttentionParams.class, 128,
      4 * 2 * 64 * 128),
  /** FP8: 6 stages x (K + V) x 64 positions x 64 bytes of codes. */
  DECODE_ATTENTION_FP8_D64("df_decode_attention_fp8_d64", DecodeAttentionParams.class, 128,
      6 * 2 * 64 * 64),
  DECODE_ATTENTION_PERSISTENT_FP8_D128("df_decode_attention_persistent_fp8_d128", DecodeAttentionParams.class, 128,
      4 * 2 * 64 * 128),
  DECODE_ATTENTION_PERSISTENT_FP8_D64("df_decode_attention_persistent_fp8_d64", DecodeAttentionParams.class, 128,
      6 * 2 * 64 * 64),
  DECODE_ATTENTION_GRAPH_FP8_D128("df_decode_attention_graph_fp8_d128", DecodeAttentionGraphParams.class, 128,
      4 * 2 * 64 * 128),
  DECODE_ATTENTION_GRAPH_FP8_D64("df_decode_attention_graph_fp8_d64", DecodeAttentionGraphParams.class, 128,
      6 * 2 * 64 * 64),
  DECODE_ATTENTION_GRAPH_PERSISTENT_FP8_D128("df_decode_attention_graph_persistent_fp8_d128",
      DecodeAttentionGraphParams.class, 128, 4 * 2 * 64 * 128),
  DECODE_ATTENTION_GRAPH_PERSISTENT_FP8_D64("df_decode_attention_graph_persistent_fp8_d64",
      DecodeAttentionGraphParams.class, 128, 6 * 2 * 64 * 64),
  /** Largest magnitude of a dummy tensor, before FP8 quantization (fp8_weights.cu). */
  DUMMY_WEIGHTS_AMAX("df_dummy_weights_amax", DummyWeightsFp8Params.class, 256, 0),
  /** A dummy tensor as FP8 e4m3 codes with its per-tensor scale (fp8_weights.cu). */
  DUMMY_WEIGHTS_FP8("df_dummy_weights_fp8", DummyWeightsFp8Params.class, 256, 0),
  /** The skinny GEMM over FP8 weights: stages x (weight rows x 128 codes + mTile x 160 x 2 bytes). */
  SKINNY_GEMM_FP8_M8("df_skinny_gemm_fp8_m8", SkinnyGemmFp8Params.class, 128, 3 * (64 * 64 + 8 * 160) * 2),
  SKINNY_GEMM_FP8_M16("df_skinny_gemm_fp8_m16", SkinnyGemmFp8Params.class, 128, 2 * (64 * 64 + 16 * 160) * 2),
  SKINNY_GEMM_FP8_M32("df_skinny_gemm_fp8_m32", SkinnyGemmFp8Params.class, 128, 2 * (128 * 64 + 32 * 160) * 2),
  SKINNY_GEMM_FP8_M64("df_skinny_gemm_fp8_m64", SkinnyGemmFp8Params.class, 128, 2 * (128 * 64 + 64 * 160) * 2),
  /**
   * The m64 plan's FP8 skinny GEMM on wgmma, the codes as A from registers (skinny_gemm_fp8_wgmma.cu; sm_90a
   * only): 6 stages of 128 code rows x 64 bytes and 64 x rows x 128 bytes, plus 1 KiB to align the ring.
   */
  SKINNY_GEMM_FP8_WGMMA("df_skinny_gemm_fp8_wgmma", SkinnyGemmFp8Params.class, 256, 6 * (128 * 64 + 64 * 128) + 1024),
  /** One decode row over FP8 weights, a warp a row; x as float32 in up to 64 KiB (gemv_fp8.cu). */
  GEMV_FP8_M1("df_gemv_fp8_m1", GemvFp8Params.class, 256, GemvFp8Params.MAX_K * 4),
  /** One decode row over FP8 weights on the tensor cores, 8 rows a task; x as bf16 in up to 32 KiB (gemv_fp8_mma.cu). */
  GEMV_FP8_MMA_M1("df_gemv_fp8_mma_m1", GemvFp8Params.class, 256, GemvFp8Params.MAX_K * 2),
  /** The same over bf16 weights: the MMAs take the weights as they are (gemv_fp8_mma.cu). */
  GEMV_BF16_MMA_M1("df_gemv_bf16_mma_m1", GemvFp8Params.class, 256, GemvFp8Params.MAX_K * 2),
  /** fp8-dynamic's one row: quantized per token in the CTA, e4m3 x e4m3 MMAs; the row as bf16, then codes (gemv_fp8_mma.cu). */
  GEMV_FP8X8_MMA_M1("df_gemv_fp8x8_mma_m1", GemvFp8Params.class, 256, GemvFp8Params.MAX_K * 3),
  /**
   * The second skinny GEMM over FP8 weights (skinny2_gemm_fp8.cu, m <= 64): stages x (a 64-row x
   * 256-code weight box + mTile x rows x 528-byte pitch, rounded up to 128 bytes), + 128 to align
   * the ring for the tensor copies, + 2 mbarriers a stage; 8 stages up to m16, 6 at m32, 4 at m64;
   * 4 consumer warps and a producer warp.
   */
  SKINNY2_GEMM_FP8_M1("df_skinny2_gemm_fp8_m1", Skinny2GemmFp8Params.class, 160,
      8 * (64 * 256 + 1 * 528 + 112) + 128 + 128),
  SKINNY2_GEMM_FP8_M2("df_skinny2_gemm_fp8_m2", Skinny2GemmFp8Params.class, 160,
      8 * (64 * 256 + 2 * 528 + 96) + 128 + 128),
  SKINNY2_GEMM_FP8_M4("df_skinny2_gemm_fp8_m4", Skinny2GemmFp8Params.class, 160,
      8 * (64 * 256 + 4 * 528 + 64) + 128 + 128),
  SKINNY2_GEMM_FP8_M8("df_skinny2_gemm_fp8_m8", Skinny2GemmFp8Params.class, 160, 8 * (64 * 256 + 8 * 528) + 128 + 128),
  SKINNY2_GEMM_FP8_M16("df_skinny2_gemm_fp8_m16", Skinny2GemmFp8Params.class, 160,
      8 * (64 * 256 + 16 * 528) + 128 + 128),
  SKINNY2_GEMM_FP8_M32("df_skinny2_gemm_fp8_m32", Skinny2GemmFp8Params.class, 160,
      6 * (64 * 256 + 32 * 528) + 128 + 96),
  SKINNY2_GEMM_FP8_M64("df_skinny2_gemm_fp8_m64", Skinny2GemmFp8Params.class, 160,
      4 * (64 * 256 + 64 * 528) + 128 + 64),
  /**
   * Its codes-by-codes variants for fp8-dynamic (skinny2_gemm_fp8x8.cu, m <= 64, x as a box of e4m3 codes,
   * 256 a row): 8 stages up to m32, 6 at m64.
   */
  SKINNY2_GEMM_FP8X8_M8("df_skinny2_gemm_fp8x8_m8", Skinny2GemmFp8Params.class, 160,
      8 * (64 * 256 + 8 * 256) + 128 + 128),
  SKINNY2_GEMM_FP8X8_M16("df_skinny2_gemm_fp8x8_m16", Skinny2GemmFp8Params.class, 160,
      8 * (64 * 256 + 16 * 256) + 128 + 128),
  SKINNY2_GEMM_FP8X8_M32("df_skinny2_gemm_fp8x8_m32", Skinny2GemmFp8Params.class, 160,
      8 * (64 * 256 + 32 * 256) + 128 + 128),
  SKINNY2_GEMM_FP8X8_M64("df_skinny2_gemm_fp8x8_m64", Skinny2GemmFp8Params.class, 160,
      6 * (64 * 256 + 64 * 256) + 128 + 96),
  /**
   * The same on wgmma (skinny2_gemm_fp8x8_wgmma.cu, sm_90a only): a stage is two pairs of 128-byte-swizzled boxes
   * (128 codes x 64 weight rows, 128 codes x mTile x rows), the ring 1024-aligned; 8 stages up to m32, 6 at m64;
   * two consumer warpgroups taking items in turns (two more barriers) and the producer warp.
   */
  SKINNY2_GEMM_FP8X8_WGMMA_M8("df_skinny2_gemm_fp8x8_wgmma_m8", Skinny2GemmFp8Params.class, 288,
      8 * 2 * (64 * 128 + 8 * 128) + 1024 + 144),
  SKINNY2_GEMM_FP8X8_WGMMA_M16("df_skinny2_gemm_fp8x8_wgmma_m16", Skinny2GemmFp8Params.class, 288,
      8 * 2 * (64 * 128 + 16 * 128) + 1024 + 144),
  SKINNY2_GEMM_FP8X8_WGMMA_M32("df_skinny2_gemm_fp8x8_wgmma_m32", Skinny2GemmFp8Params.class, 288,
      8 * 2 * (64 * 128 + 32 * 128) + 1024 + 144),
  SKINNY2_GEMM_FP8X8_WGMMA_M64("df_skinny2_gemm_fp8x8_wgmma_m64", Skinny2GemmFp8Params.class, 288,
      6 * 2 * (64 * 128 + 64 * 128) + 1024 + 112),
  /** FP8 weights widened to bf16 for the prefill GEMM (fp8_weights.cu). */
  FP8_DEQUANT("df_fp8_dequant", Fp8DequantParams.class, 256, 0),
  /** An FP8 projection's activations quantized a row at a time (dynamic per-token scales; fp8_weights.cu). */
  FP8_QUANTIZE_ROWS("df_fp8_quantize_rows", Fp8QuantizeRowsParams.class, 256, 0),
  /** A mixture of experts' router: one warp a token, 4 per CTA; static shared memory only (moe.cu). */
  MOE_ROUTE("df_moe_route", MoeRouteParams.class, 128, 0),
  /** Tokens grouped by expert, in one CTA; static shared memory only. */
  MOE_PERMUTE("df_moe_permute", MoePermuteParams.class, 256, 0),
  /** The experts' gate and up GEMMs with SwiGLU, a grid over output tiles x experts. */
  MOE_EXPERTS_GATE_UP("df_moe_experts_gate_up", MoeExpertGemmParams.class, 128, 0),
  /** The experts' down GEMM, a grid over output tiles x experts. */
  MOE_EXPERTS_DOWN("df_moe_experts_down", MoeExpertGemmParams.class, 128, 0),
  /** Each token's weighted sum of its experts' outputs. */
  MOE_COMBINE("df_moe_combine", MoeCombineParams.class, 256, 0),
  /** The experts' gate_up + SwiGLU on tensor cores (moe_prefill.cu): gemm.cu's 4 stages x (A + B) x 128 x 32 x 2 bytes. */
  MOE_EXPERTS_GATE_UP_TC("df_moe_experts_gate_up_tc", MoeExpertGemmParams.class, 256, 4 * 2 * 128 * 32 * 2),
  /** The experts' down on tensor cores. */
  MOE_EXPERTS_DOWN_TC("df_moe_experts_down_tc", MoeExpertGemmParams.class, 256, 4 * 2 * 128 * 32 * 2);

  /** Above this a kernel must raise its dynamic shared-memory limit before launch. */
  public static final int DEFAULT_SHARED_LIMIT = 48 * 1024;

  private final String symbol;
  private final Class<? extends KernelParams> paramsType;
  private final int threads;
  private final int sharedBytes;

  Kernel(String symbol, Class<? extends KernelParams> paramsType, int threads, int sharedBytes) {
    this.symbol = symbol;
    this.paramsType = paramsType;
    this.threads = threads;
    this.sharedBytes = sharedBytes;
  }

  /** The unmangled ({@code extern "C"}) name in the fatbin. */
  public String symbol() {
    return symbol;
  }

  public Class<? extends KernelParams> paramsType() {
    return paramsType;
  }

  /** Threads per CTA; the kernel's {@code __launch_bounds__}. */
  public int threads() {
    return threads;
  }

  /** Dynamic shared memory per CTA in bytes. */
  public int sharedBytes() {
    return sharedBytes;
  }

  public boolean needsSharedOptIn() {
    return sharedBytes > DEFAULT_SHARED_LIMIT;
  }

  /**
   * Whether a launch needs the dynamic shared-memory opt-in when the compiled code also holds {@code
   * staticBytes} of static shared memory: the default limit covers both together, so 48 KiB of dynamic
   * memory beside one static variable already needs it (without it no CTA fits an SM).
   */
  public boolean needsSharedOptIn(int staticBytes) {
    return sharedBytes > 0 && (needsSharedOptIn() || (long) staticBytes + sharedBytes > DEFAULT_SHARED_LIMIT);
  }

  /**
   * Whether this kernel's code runs on a device of this compute capability. Every kernel runs
   * wherever the fatbin loads but the wgmma ones ({@link #WGMMA_GEMM}, {@link #WGMMA_GEMM_FP8}, the sm_90 prompt
   * attentions, the codes-by-codes skinny GEMM's wgmma variants), which are sm_90a machine code only (their other
   * targets trap); their shared-memory opt-in is not even asked for elsewhere.
   */
  public boolean runsOn(int computeMajor, int computeMinor) {
    return !sm90aOnly() || WgmmaGemmParams.supports(computeMajor, computeMinor);
  }

  private boolean sm90aOnly() {
    return switch (this) {
      case WGMMA_GEMM, WGMMA_GEMM_FP8, PREFILL_ATTENTION_WGMMA_D128, PREFILL_ATTENTION_TMA_D128,
          PREFILL_ATTENTION_TMA_PP_D128, SKINNY2_GEMM_FP8X8_WGMMA_M8, SKINNY2_GEMM_FP8X8_WGMMA_M16,
          SKINNY2_GEMM_FP8X8_WGMMA_M32, SKINNY2_GEMM_FP8X8_WGMMA_M64 -> true;
      default -> false;
    };
  }
}
