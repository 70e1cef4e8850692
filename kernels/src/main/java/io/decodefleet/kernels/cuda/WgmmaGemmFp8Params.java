package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code WgmmaGemmFp8Params} in wgmma_gemm_fp8.cu: {@code out[i, j] = scale[j] · Σ_k x[i, k] ·
 * e4m3(w[j, k])} on Hopper's wgmma (FP8 weights, bf16 activations: the FP8 skinny GEMMs' math for
 * prefill and large decode batches). The plan of {@link WgmmaGemmParams} — tiles of {@value
 * WgmmaGemmParams#TILE_M} × {@value WgmmaGemmParams#TILE_N}, k-steps of {@value WgmmaGemmParams#TILE_K},
 * the persistent grid and its schedule — with the weight brought in as codes and widened in shared
 * memory before the MMAs.
 *
 * @param xMap x (m, k) bf16 as a (k, m) tensor map, boxes of 64 × 128, 128-byte swizzle: {@link
 *     WgmmaGemmParams#xMapSpec}
 * @param wMap w (n, k) e4m3 codes as a (k, n) uint8 tensor map, boxes of 64 × 256, no swizzle: {@link #wMapSpec}
 * @param out (m, outStride) bf16, or float32 when {@code outFloat} is 1
 * @param scale (n) float32 row scales of w when {@code scaleStride} is 1, (1) when 0
 * @param m rows of x, at least 1
 * @param k a multiple of 16 (the codes' 16-byte row-stride rule)
 */
public record WgmmaGemmFp8Params(TensorMap xMap, TensorMap wMap, long out, long scale, int m, int n, int k,
    int outStride, int scaleStride, int outFloat) implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(WgmmaGemmFp8Params.class);

  /** Shared-memory stages of the TMA ring: an x box and a box of codes each. */
  public static final int STAGES = 4;
  /** Bytes of one stage: the producer's expect_tx. */
  public static final int STAGE_BYTES = WgmmaGemmParams.TILE_M * WgmmaGemmParams.TILE_K * 2
      + WgmmaGemmParams.TILE_N * WgmmaGemmParams.TILE_K;
  /** Widened bf16 weight tiles the consumers rotate through. */
  public static final int B_TILES = 3;
  /** Bytes of one widened weight tile. */
  public static final int B_TILE_BYTES = WgmmaGemmParams.TILE_N * WgmmaGemmParams.TILE_K * 2;
  /** Dynamic shared memory of a CTA: stages, widened tiles, the 1 KiB alignment slack, the barriers. */
  public static final int SHARED_BYTES = STAGES * STAGE_BYTES + B_TILES * B_TILE_BYTES + 1024 + 2 * STAGES * 8;

  public WgmmaGemmFp8Params {
    if (xMap == null || wMap == null) {
      throw new IllegalArgumentException("xMap and wMap must be encoded tensor maps (was " + xMap + ", " + wMap + ")");
    }
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(scale, "scale");
    ParamChecks.positive(m, "m");
    ParamChecks.positive(n, "n");
    ParamChecks.positive(k, "k");
    ParamChecks.multipleOf(k, 16, "k");
    ParamChecks.flag(scaleStride, "scaleStride");
    ParamChecks.flag(outFloat, "outFloat");
    if (outStride < n) {
      throw new IllegalArgumentException("outStride (" + outStride + ") must be >= n (" + n + ")");
    }
  }

  /** w (n, k) row-major e4m3 codes as the kernel's weight operand: (k, n), boxes of 64 codes × 256 rows. */
  public static TensorMapSpec wMapSpec(long w, int n, int k) {
    ParamChecks.multipleOf(k, 16, "k");
    return new TensorMapSpec(w, k, n, k, WgmmaGemmParams.TILE_K, WgmmaGemmParams.TILE_N, TensorMapSpec.SWIZZLE_NONE,
        TensorMapSpec.DATA_TYPE_UINT8);
  }

  /** Persistent grid: one CTA per tile up to one per SM (as {@link WgmmaGemmParams#launch}). */
  public LaunchShape launch(int smCount) {
    ParamChecks.positive(smCount, "smCount");
    int ctas = (int) Math.min(WgmmaGemmParams.tiles(m, n), smCount);
    return new LaunchShape(ctas, 1, 1, Kernel.WGMMA_GEMM_FP8.threads(), Kernel.WGMMA_GEMM_FP8.sharedBytes());
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
