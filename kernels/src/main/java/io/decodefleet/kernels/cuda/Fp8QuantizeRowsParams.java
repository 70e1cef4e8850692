package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code Fp8QuantizeRowsParams} in fp8_weights.cu: the activations of an FP8 projection
 * quantized row by row at run time (dynamic per-token scales): {@code scales[r] = amax(x[r]) / 448}
 * (1 for a row of zeros) and {@code codes[r] = e4m3(x[r] / scales[r])}, as {@code
 * Fp8E4m3.quantizeRows} does on the CPU.
 *
 * @param codes (rows, cols) e4m3 codes, rows cols bytes apart
 * @param scales (rows) float32
 * @param x (rows, cols) bf16, rows {@code xStride} elements apart
 * @param cols a multiple of 16 (cuBLASLt's FP8 GEMM wants k so)
 * @param xStride a multiple of 8 (16-byte rows)
 */
public record Fp8QuantizeRowsParams(long codes, long scales, long x, int rows, int cols, int xStride)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(Fp8QuantizeRowsParams.class);

  public Fp8QuantizeRowsParams {
    ParamChecks.pointer(codes, "codes");
    ParamChecks.pointer(scales, "scales");
    ParamChecks.pointer(x, "x");
    ParamChecks.positive(rows, "rows");
    ParamChecks.positive(cols, "cols");
    ParamChecks.multipleOf(cols, 16, "cols");
    ParamChecks.multipleOf(xStride, 8, "xStride");
    if (xStride < cols) {
      throw new IllegalArgumentException("xStride must be at least cols (" + cols + ") but is " + xStride);
    }
  }

  /** One CTA a row. */
  public LaunchShape launch() {
    return new LaunchShape(rows, 1, 1, Kernel.FP8_QUANTIZE_ROWS.threads(), 0);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
