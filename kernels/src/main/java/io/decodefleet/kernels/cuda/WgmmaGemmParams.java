package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code WgmmaGemmParams} in wgmma_gemm.cu: {@code out = x · wᵀ} on Hopper's wgmma,
 * its tiles brought in by TMA through two host-encoded tensor maps.
 *
 * <p>The kernel exists for sm_90a only (every other target traps): {@link #supports(int, int)}
 * says where it may run. A launch covers {@link #tiles(int, int)} output tiles of {@value #TILE_M}
 * × {@value #TILE_N} with a persistent grid of at most one CTA per SM ({@link #launch(int)}).
 *
 * @param xMap x (m, k) as a (k, m) tensor map, boxes of 64 × 128: {@link #xMapSpec}
 * @param wMap w (n, k) as a (k, n) tensor map, boxes of 64 × 256: {@link #wMapSpec}
 * @param out (m, outStride) bf16, or float32 when {@code outFloat} is 1
 * @param m rows of x, at least 1 (a tensor map has no empty dimension: skip empty launches)
 * @param k a multiple of 8 (the tensor map's 16-byte row-stride rule)
 * @param outFloat 1: out is (m, outStride) float32 (a tensor-parallel rank's partial sums), else 0
 */
public record WgmmaGemmParams(
    TensorMap xMap, TensorMap wMap, long out, int m, int n, int k, int outStride, int outFloat)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(WgmmaGemmParams.class);

  /** Output rows per tile (two consumer warpgroups of 64). */
  public static final int TILE_M = 128;
  /** Output columns per tile (one wgmma m64n256k16 per warpgroup and k16 step). */
  public static final int TILE_N = 256;
  /** k per pipeline stage: one 128-byte swizzle span of bf16. */
  public static final int TILE_K = 64;
  /** Shared-memory stages of the TMA ring. */
  public static final int STAGES = 4;
  /** Bytes of one stage: an x box and a w box (the producer's expect_tx). */
  public static final int STAGE_BYTES = (TILE_M + TILE_N) * TILE_K * 2;

  public WgmmaGemmParams {
    if (xMap == null || wMap == null) {
      throw new IllegalArgumentException("xMap and wMap must be encoded tensor maps (was " + xMap + ", " + wMap + ")");
    }
    ParamChecks.pointer(out, "out");
    ParamChecks.positive(m, "m");
    ParamChecks.positive(n, "n");
    ParamChecks.positive(k, "k");
    ParamChecks.multipleOf(k, 8, "k");
    ParamChecks.flag(outFloat, "outFloat");
    if (outStride < n) {
      throw new IllegalArgumentException("outStride (" + outStride + ") must be >= n (" + n + ")");
    }
  }

  /** Whether the fatbin's code for a device of this compute capability runs this kernel (sm_90a). */
  public static boolean supports(int computeMajor, int computeMinor) {
    return computeMajor == 9 && computeMinor == 0;
  }

  /** x (m, k) row-major bf16 as the kernel's A operand: (k, m), boxes of 64 k × 128 rows. */
  public static TensorMapSpec xMapSpec(long x, int m, int k) {
    ParamChecks.multipleOf(k, 8, "k");
    return new TensorMapSpec(x, k, m, 2L * k, TILE_K, TILE_M);
  }

  /** w (n, k) row-major bf16 as the kernel's B operand: (k, n), boxes of 64 k × 256 rows. */
  public static TensorMapSpec wMapSpec(long w, int n, int k) {
    ParamChecks.multipleOf(k, 8, "k");
    return new TensorMapSpec(w, k, n, 2L * k, TILE_K, TILE_N);
  }

  /** Row tiles per group of the persistent schedule ({@code kGroupM} in wgmma_gemm.cu). */
  public static final int GROUP_M = 16;

  /**
   * The (row tile, column tile) of schedule position {@code t}, as {@code wgmma_tile_of} in
   * wgmma_gemm.cu computes it: groups of {@value #GROUP_M} row tiles (fewer in the last group),
   * column-major inside a group, so that the tiles running at once share x rows and w columns.
   * CTA b runs positions b, b + grid, b + 2·grid, ...
   */
  public static int[] tileOf(int t, int tilesM, int tilesN) {
    int perGroup = GROUP_M * tilesN;
    int group = t / perGroup;
    int firstM = group * GROUP_M;
    int rows = Math.min(GROUP_M, tilesM - firstM);
    int local = t - group * perGroup;
    return new int[] {firstM + local % rows, local / rows};
  }

  /** Output tiles of an (m, n) product. */
  public static long tiles(int m, int n) {
    ParamChecks.positive(m, "m");
    ParamChecks.positive(n, "n");
    return (long) ((m + TILE_M - 1) / TILE_M) * ((n + TILE_N - 1) / TILE_N);
  }

  /** k-steps per tile (the last zero-filled past k). */
  public static int kSteps(int k) {
    ParamChecks.positive(k, "k");
    return (k + TILE_K - 1) / TILE_K;
  }

  /** Persistent grid: one CTA per tile up to one per SM. */
  public LaunchShape launch(int smCount) {
    ParamChecks.positive(smCount, "smCount");
    int ctas = (int) Math.min(tiles(m, n), smCount);
    return new LaunchShape(ctas, 1, 1, Kernel.WGMMA_GEMM.threads(), Kernel.WGMMA_GEMM.sharedBytes());
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
