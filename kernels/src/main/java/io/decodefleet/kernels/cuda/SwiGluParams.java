package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code SwiGluParams} in swiglu.cu: {@code out = silu(gate) * up}.
 *
 * @param out (rows, outStride) bf16
 * @param gate (rows, inStride) bf16
 * @param up (rows, inStride) bf16; {@code gate + cols} elements for a fused gate_up buffer
 * @param cols, inStride, outStride multiples of 8
 * @param codes fp8-dynamic: (rows, cols) e4m3 codes of out's rows, each quantized per row as {@code
 *     df_fp8_quantize_rows} would; 0 for none ({@link #withCodes})
 * @param scales (rows) float32, each row's scale; set with codes
 */
public record SwiGluParams(
    long out, long gate, long up, int rows, int cols, int inStride, int outStride, long codes, long scales)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(SwiGluParams.class);

  public SwiGluParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(gate, "gate");
    ParamChecks.pointer(up, "up");
    ParamChecks.nonNegative(rows, "rows");
    ParamChecks.positive(cols, "cols");
    ParamChecks.multipleOf(cols, 8, "cols");
    ParamChecks.multipleOf(inStride, 8, "inStride");
    ParamChecks.multipleOf(outStride, 8, "outStride");
    if (inStride < cols || outStride < cols) {
      throw new IllegalArgumentException(
          "inStride (" + inStride + ") and outStride (" + outStride + ") must be >= cols (" + cols
              + ")");
    }
    if ((codes == 0) != (scales == 0)) {
      throw new IllegalArgumentException("codes and scales come together (codes " + codes + ", scales " + scales + ")");
    }
    if (codes != 0) ParamChecks.multipleOf(cols, 16, "cols");
  }

  /** No codes. */
  public SwiGluParams(long out, long gate, long up, int rows, int cols, int inStride, int outStride) {
    this(out, gate, up, rows, cols, inStride, outStride, 0L, 0L);
  }

  /** The same activation, also writing each output row's e4m3 codes and scale (fp8-dynamic; cols a multiple of 16). */
  public SwiGluParams withCodes(long codes, long scales) {
    ParamChecks.pointer(codes, "codes");
    ParamChecks.pointer(scales, "scales");
    return new SwiGluParams(out, gate, up, rows, cols, inStride, outStride, codes, scales);
  }

  /** Threads of a CTA that makes a row's codes (swiglu.cu's kSwiGluCodesThreads; the kernel's launch bound). */
  public static final int CODES_THREADS = 1024;

  /**
   * (ceil(cols / 8 / 256), rows) CTAs of 256 threads, one 16-byte vector per thread; with codes one CTA of {@value
   * #CODES_THREADS} a row.
   */
  public LaunchShape launch() {
    if (codes != 0) return new LaunchShape(1, rows, 1, CODES_THREADS, 0);
    int threads = Kernel.SWIGLU.threads();
    return new LaunchShape((cols / 8 + threads - 1) / threads, rows, 1, threads, 0);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
