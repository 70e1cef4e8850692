package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code Fp8GemmParams} in fp8_gemm.cu: {@code out = (x · e4m3(w)ᵀ) * scale} for few x
 * rows (decode), FP8 weights with a float32 scale per output row or per tensor, float32 accumulation.
 *
 * @param out (m, outStride) bf16, or float32 when outFloat
 * @param x (m, k) bf16
 * @param w (n, k) e4m3 codes
 * @param scale (n) float32 when scaleStride is 1, (1) when it is 0
 * @param scaleStride 1: a scale per output row; 0: one for the whole tensor
 * @param outFloat 1: out is float32 (a tensor-parallel rank's partial sums), else 0
 */
public record Fp8GemmParams(
    long out,
    long x,
    long w,
    long scale,
    int m,
    int n,
    int k,
    int outStride,
    int scaleStride,
    int outFloat)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(Fp8GemmParams.class);

  /** Weight rows of one CTA (4 warps of 2 rows): kFp8Rows in fp8_gemm.cu. */
  public static final int ROWS_PER_CTA = 8;
  /** x rows of one CTA: kFp8MTile in fp8_gemm.cu. */
  public static final int M_TILE = 8;

  public Fp8GemmParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(x, "x");
    ParamChecks.pointer(w, "w");
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

  /** (ceil(n / ROWS_PER_CTA), ceil(m / M_TILE)) CTAs. */
  public LaunchShape launch() {
    return new LaunchShape((n + ROWS_PER_CTA - 1) / ROWS_PER_CTA, (m + M_TILE - 1) / M_TILE, 1,
        Kernel.FP8_GEMM.threads(), 0);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
