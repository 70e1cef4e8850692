package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code Skinny2GemmFp8Params} in skinny2_gemm_fp8.cu: the second skinny GEMM of {@link
 * Skinny2GemmParams} over FP8 e4m3 weights with a float32 scale per weight row, {@code out = (x ·
 * e4m3(w)ᵀ) * scale[row]}, for at most {@value #MAX_M} rows of x. A launch follows a {@link
 * Skinny2GemmPlan} made by {@link #plan} (the bf16 kernel's 64-row tiles, 256-k chunks, splits and
 * workspace: the chunks are half the bytes, but the balance is counted in chunks, so the plan's
 * choice stands; past 16 rows the variants hold 32 or 64 x rows a stage, in fewer stages), the
 * weights read through a UINT8 tensor map ({@link #wMapSpec}).
 *
 * <p>The same parameters launch the codes-by-codes variants ({@code df_skinny2_gemm_fp8x8_m*} on mma.sync and {@code
 * df_skinny2_gemm_fp8x8_wgmma_m*} on wgmma, fp8-dynamic's projections: {@link #ofCodes}, {@link #planCodes},
 * {@link #launchCodes}): x is then (m, k) e4m3 codes with a
 * float32 scale per row at {@code xScale}, and {@code out = (x · wᵀ) * xScale[row of x] * scale[row of w]}.
 *
 * @param wMap w (n, k) e4m3 as a (k, n) UINT8 tensor map, boxes of 256 k × 64 rows, no swizzle (the codes variants
 *     on wgmma: 128 k × 64 rows, 128-byte swizzle, {@link #wMapSpecCodes})
 * @param scale (n) float32
 * @param kSlice k per split, a multiple of {@value Skinny2GemmPlan#CHUNK_K}
 * @param xScale the codes variants: (m) float32, x's row scales; 0 for the bf16-x variants
 * @param xMap the codes variants: x (m, k) as a (k, m) UINT8 tensor map, boxes of mTile rows ({@link #xMapSpec});
 *     all zeros for the bf16-x variants
 */
public record Skinny2GemmFp8Params(
    TensorMap wMap,
    long out,
    long x,
    long scale,
    long workspace,
    long counters,
    int m,
    int n,
    int k,
    int outStride,
    int kSlice,
    int splits,
    int outFloat,
    long xScale,
    TensorMap xMap)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(Skinny2GemmFp8Params.class);

  /** Largest m: the widest variant holds 64 x rows a stage (8 MMA column tiles a warp). */
  public static final int MAX_M = 64;
  /** The codes variants' narrowest tile: an MMA's 8 columns of x rows. */
  static final int MIN_CODES_TILE = 8;
  /** The wgmma codes variants' box width in codes: the 128-byte swizzle's row. */
  public static final int WGMMA_BOX_K = 128;

  /** The bf16-x variants' unused x map. */
  private static final TensorMap NO_MAP = new TensorMap(new byte[TensorMap.BYTES]);

  public Skinny2GemmFp8Params {
    Skinny2GemmParams.check(wMap, out, x, workspace, counters, m, MAX_M, n, k, outStride, kSlice, splits, outFloat);
    ParamChecks.pointer(scale, "scale");
    ParamChecks.multipleOf(k, 16, "k");
  }

  /**
   * Whether the kernel takes a launch of this shape: 1 ≤ m ≤ {@value #MAX_M} and k a multiple of 16
   * (the UINT8 map's row stride of k bytes must be a multiple of 16, and a consumer's 16-code vector
   * is then wholly inside or outside k).
   */
  public static boolean supports(int m, int k) {
    return m >= 1 && m <= MAX_M && k >= 16 && k % 16 == 0;
  }

  /** Plans a launch of {@code m} ≤ {@value #MAX_M} rows on the variant {@link #kernelFor} picks. */
  public static Skinny2GemmPlan plan(int m, int n, int k, int slots) {
    ParamChecks.skinnyLaunch(m, MAX_M, n, k, slots);
    ParamChecks.multipleOf(k, 16, "k");
    return Skinny2GemmPlan.plan(m, n, k, slots, tileFor(m));
  }

  /** The plan's FP8 kernel. */
  public static Kernel kernelFor(Skinny2GemmPlan plan) {
    return kernelFor(plan.m());
  }

  /** The FP8 variant for {@code m} rows of x: the smallest that holds them (one CTA per SM, whichever). */
  public static Kernel kernelFor(int m) {
    return switch (tileFor(m)) {
      case 1 -> Kernel.SKINNY2_GEMM_FP8_M1;
      case 2 -> Kernel.SKINNY2_GEMM_FP8_M2;
      case 4 -> Kernel.SKINNY2_GEMM_FP8_M4;
      case 8 -> Kernel.SKINNY2_GEMM_FP8_M8;
      case 16 -> Kernel.SKINNY2_GEMM_FP8_M16;
      case 32 -> Kernel.SKINNY2_GEMM_FP8_M32;
      default -> Kernel.SKINNY2_GEMM_FP8_M64;
    };
  }

  /** x rows a stage of the variant for {@code m} rows holds: the smallest power of two ≥ m. */
  static int tileFor(int m) {
    ParamChecks.positive(m, "m");
    ParamChecks.atMost(m, MAX_M, "m");
    return Integer.highestOneBit(m) == m ? m : Integer.highestOneBit(m) << 1;
  }

  /** The plan's persistent grid, with the FP8 kernel's threads and shared memory. */
  public static LaunchShape launch(Skinny2GemmPlan plan) {
    return LaunchShape.grid1d(plan.ctas(), kernelFor(plan));
  }

  /** Plans a codes-by-codes launch of {@code m} ≤ {@value #MAX_M} rows on the variant {@link #kernelForCodes} picks. */
  public static Skinny2GemmPlan planCodes(int m, int n, int k, int slots) {
    ParamChecks.skinnyLaunch(m, MAX_M, n, k, slots);
    ParamChecks.multipleOf(k, 16, "k");
    return Skinny2GemmPlan.plan(m, n, k, slots, Math.max(MIN_CODES_TILE, tileFor(m)));
  }

  /** {@link #planCodes}, k cut into {@code splits} slices instead ({@link Skinny2GemmPlan#withSplits}); 0: as planned. */
  public static Skinny2GemmPlan planCodes(int m, int n, int k, int slots, int splits) {
    Skinny2GemmPlan planned = planCodes(m, n, k, slots);
    return splits == 0 ? planned : planned.withSplits(splits, slots);
  }

  /**
   * The codes-by-codes variant for {@code m} rows of x: the smallest of 8, 16, 32 and 64 rows that holds them, on
   * wgmma (skinny2_gemm_fp8x8_wgmma.cu, sm_90a only: {@link #wgmmaRunsOn}) or mma.sync (skinny2_gemm_fp8x8.cu, every
   * target). Both take the same plans; their maps differ ({@link #wMapSpecCodes}, {@link #xMapSpec}).
   */
  public static Kernel kernelForCodes(int m, boolean wgmma) {
    int tile = Math.max(MIN_CODES_TILE, tileFor(m));
    if (wgmma) {
      return switch (tile) {
        case 8 -> Kernel.SKINNY2_GEMM_FP8X8_WGMMA_M8;
        case 16 -> Kernel.SKINNY2_GEMM_FP8X8_WGMMA_M16;
        case 32 -> Kernel.SKINNY2_GEMM_FP8X8_WGMMA_M32;
        default -> Kernel.SKINNY2_GEMM_FP8X8_WGMMA_M64;
      };
    }
    return switch (tile) {
      case 8 -> Kernel.SKINNY2_GEMM_FP8X8_M8;
      case 16 -> Kernel.SKINNY2_GEMM_FP8X8_M16;
      case 32 -> Kernel.SKINNY2_GEMM_FP8X8_M32;
      default -> Kernel.SKINNY2_GEMM_FP8X8_M64;
    };
  }

  /** Whether the codes GEMM's wgmma variants run on a device of this compute capability (sm_90a code). */
  public static boolean wgmmaRunsOn(int computeMajor, int computeMinor) {
    return Kernel.SKINNY2_GEMM_FP8X8_WGMMA_M8.runsOn(computeMajor, computeMinor);
  }

  /** A codes plan's persistent grid, with its variant's threads and shared memory. */
  public static LaunchShape launchCodes(Skinny2GemmPlan plan, boolean wgmma) {
    return LaunchShape.grid1d(plan.ctas(), kernelForCodes(plan.m(), wgmma));
  }

  /**
   * The weights' map of a codes launch: {@link #wMapSpec} for the mma.sync variants; for the wgmma ones the same
   * codes in boxes of {@value #WGMMA_BOX_K} codes × {@value Skinny2GemmPlan#ROWS} rows, 128-byte swizzle (wgmma's
   * K-major operand layout; two boxes a 256-k stage).
   */
  public static TensorMapSpec wMapSpecCodes(long w, int n, int k, boolean wgmma) {
    if (!wgmma) return wMapSpec(w, n, k);
    ParamChecks.positive(n, "n");
    ParamChecks.multipleOf(k, 16, "k");
    return new TensorMapSpec(w, k, n, k, WGMMA_BOX_K, Skinny2GemmPlan.ROWS, TensorMapSpec.SWIZZLE_128B,
        TensorMapSpec.DATA_TYPE_UINT8);
  }

  /**
   * What the weights' tensor map describes: the codes w (n, k) as (k, n) UINT8, row stride k bytes,
   * boxes of {@value Skinny2GemmPlan#CHUNK_K} codes × {@value Skinny2GemmPlan#ROWS} rows (one stage,
   * 16 KB; a box row holds at most 256 elements), no swizzle, zeros past n and k. Like the bf16 map
   * it does not depend on m.
   */
  public static TensorMapSpec wMapSpec(long w, int n, int k) {
    ParamChecks.positive(n, "n");
    ParamChecks.multipleOf(k, 16, "k");
    return new TensorMapSpec(w, k, n, k, Skinny2GemmPlan.CHUNK_K, Skinny2GemmPlan.ROWS, TensorMapSpec.SWIZZLE_NONE,
        TensorMapSpec.DATA_TYPE_UINT8);
  }

  /** The launch {@code plan} describes over codes with row scales {@code scale}, {@code wMap} from {@link #wMapSpec}. */
  public static Skinny2GemmFp8Params of(Skinny2GemmPlan plan, TensorMap wMap, long out, long x, long scale,
      long workspace, long counters, int outStride, boolean outFloat) {
    return new Skinny2GemmFp8Params(wMap, out, x, scale, workspace, counters, plan.m(), plan.n(), plan.k(), outStride,
        plan.kSlice(), plan.splits(), outFloat ? 1 : 0, 0L, NO_MAP);
  }

  /**
   * What a codes launch's x map describes: x's codes (m, k) as (k, m) UINT8, row stride k bytes, zeros past m and
   * k, boxes of the plan's mTile rows by {@value Skinny2GemmPlan#CHUNK_K} codes (the mma.sync variants: one stage's
   * x in one copy, no swizzle) or {@value #WGMMA_BOX_K} codes with the 128-byte swizzle (the wgmma variants).
   */
  public static TensorMapSpec xMapSpec(long xCodes, Skinny2GemmPlan plan, boolean wgmma) {
    ParamChecks.multipleOf(plan.k(), 16, "k");
    return new TensorMapSpec(xCodes, plan.k(), plan.m(), plan.k(), wgmma ? WGMMA_BOX_K : Skinny2GemmPlan.CHUNK_K,
        plan.mTile(), wgmma ? TensorMapSpec.SWIZZLE_128B : TensorMapSpec.SWIZZLE_NONE, TensorMapSpec.DATA_TYPE_UINT8);
  }

  /**
   * The codes-by-codes launch {@code plan} (from {@link #planCodes}) describes: x (m, k) e4m3 codes with row scales
   * {@code xScale}, read through {@code xMap} ({@link #xMapSpec}), w's codes with row scales {@code scale}.
   */
  public static Skinny2GemmFp8Params ofCodes(Skinny2GemmPlan plan, TensorMap wMap, TensorMap xMap, long out,
      long xCodes, long xScale, long scale, long workspace, long counters, int outStride, boolean outFloat) {
    ParamChecks.pointer(xScale, "xScale");
    if (plan.mTile() != Math.max(MIN_CODES_TILE, tileFor(plan.m()))) { // the same tiles on both variants
      throw new IllegalArgumentException("mTile " + plan.mTile() + " is not the codes variant's for m = " + plan.m()
          + " (plan it with planCodes)");
    }
    return new Skinny2GemmFp8Params(wMap, out, xCodes, scale, workspace, counters, plan.m(), plan.n(), plan.k(),
        outStride, plan.kSlice(), plan.splits(), outFloat ? 1 : 0, xScale, xMap);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
