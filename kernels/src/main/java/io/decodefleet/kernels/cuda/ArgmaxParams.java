package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code ArgmaxParams} in argmax.cu: greedy token per row, ties to the lowest index,
 * -1 for an all-NaN row.
 *
 * @param out (rows) int32
 * @param logits (rows, stride) bf16
 */
public record ArgmaxParams(long out, long logits, int rows, int vocab, int stride)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(ArgmaxParams.class);

  public ArgmaxParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(logits, "logits");
    ParamChecks.nonNegative(rows, "rows");
    ParamChecks.positive(vocab, "vocab");
    if (stride < vocab) {
      throw new IllegalArgumentException("stride (" + stride + ") must be >= vocab (" + vocab + ")");
    }
  }

  /** One CTA per row. */
  public LaunchShape launch() {
    return LaunchShape.grid1d(rows, Kernel.ARGMAX);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
