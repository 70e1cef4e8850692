package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code GemmParams} in gemm.cu: {@code out = x · wᵀ} on the tensor cores.
 *
 * @param out (m, outStride) bf16
 * @param x (m, k) bf16
 * @param w (n, k) bf16, the Hugging Face Linear layout (out_features, in_features)
 * @param k a multiple of 8
 * @param outFloat 1: out is (m, outStride) float32 (a tensor-parallel rank's partial sums), else 0
 */
public record GemmParams(long out, long x, long w, int m, int n, int k, int outStride, int outFloat)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(GemmParams.class);

  /** bf16 out. */
  public GemmParams(long out, long x, long w, int m, int n, int k, int outStride) {
    this(out, x, w, m, n, k, outStride, 0);
  }

  /** Output tile edge (both m and n). */
  public static final int TILE = 128;

  public GemmParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(x, "x");
    ParamChecks.pointer(w, "w");
    ParamChecks.nonNegative(m, "m");
    ParamChecks.positive(n, "n");
    ParamChecks.positive(k, "k");
    ParamChecks.multipleOf(k, 8, "k");
    ParamChecks.flag(outFloat, "outFloat");
    if (outStride < n) {
      throw new IllegalArgumentException("outStride (" + outStride + ") must be >= n (" + n + ")");
    }
  }

  /** (ceil(n / 128), ceil(m / 128)) CTAs. */
  public LaunchShape launch() {
    return new LaunchShape(
        (n + TILE - 1) / TILE, Math.max(1, (m + TILE - 1) / TILE), 1, Kernel.GEMM.threads(),
        Kernel.GEMM.sharedBytes());
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
