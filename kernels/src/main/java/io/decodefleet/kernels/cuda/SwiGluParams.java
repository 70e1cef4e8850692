package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code SwiGluParams} in swiglu.cu: {@code out = silu(gate) * up}.
 *
 * @param out (rows, outStride) bf16
 * @param gate (rows, inStride) bf16
 * @param up (rows, inStride) bf16; {@code gate + cols} elements for a fused gate_up buffer
 * @param cols, inStride, outStride multiples of 8
 */
public record SwiGluParams(
    long out, long gate, long up, int rows, int cols, int inStride, int outStride)
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
  }

  /** (ceil(cols / 8 / 256), rows) CTAs, one 16-byte vector per thread. */
  public LaunchShape launch() {
    int threads = Kernel.SWIGLU.threads();
    return new LaunchShape(((cols / 8) + threads - 1) / threads, rows, 1, threads, 0);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
