package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code Fp8DequantParams} in fp8_weights.cu: {@code out = bf16(e4m3(w) * scale[row])},
 * an FP8 weight widened for the bf16 GEMM of a prefill step.
 *
 * @param out (rows, cols) bf16
 * @param w (rows, cols) e4m3 codes
 * @param scale (rows) float32 when scaleStride is 1, (1) when 0
 */
public record Fp8DequantParams(long out, long w, long scale, int rows, int cols, int scaleStride)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(Fp8DequantParams.class);

  public Fp8DequantParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(w, "w");
    ParamChecks.pointer(scale, "scale");
    ParamChecks.positive(rows, "rows");
    ParamChecks.positive(cols, "cols");
    ParamChecks.multipleOf(cols, 16, "cols");
    ParamChecks.flag(scaleStride, "scaleStride");
  }

  /** A grid-stride loop over the 16-code vectors, at most 8192 CTAs. */
  public LaunchShape launch() {
    int threads = Kernel.FP8_DEQUANT.threads();
    long vectors = (long) rows * (cols / 16);
    return new LaunchShape((int) Math.min(8192, Math.max(1, (vectors + threads - 1) / threads)), 1, 1, threads, 0);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
