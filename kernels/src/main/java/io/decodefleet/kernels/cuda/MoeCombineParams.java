package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code MoeCombineParams} in moe.cu: each live row's weighted sum of its experts'
 * outputs, summed from zero in slot order with dropped pairs skipped ({@code
 * reference.ExpertPermutation.combine}); padding rows get zeros.
 *
 * @param out (rows, hidden) bf16
 * @param y (rows * k, hidden) bf16 in expert order
 * @param rowOf (rows, k) int32, -1 where dropped
 * @param weights (rows, k) float32
 * @param liveRows device int32, the step's real rows; 0: all {@code rows}
 * @param hidden a multiple of 8
 */
public record MoeCombineParams(long out, long y, long rowOf, long weights, long liveRows, int rows, int hidden, int k)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(MoeCombineParams.class);

  public MoeCombineParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(y, "y");
    ParamChecks.pointer(rowOf, "rowOf");
    ParamChecks.pointer(weights, "weights");
    ParamChecks.nonNegative(rows, "rows");
    ParamChecks.positive(hidden, "hidden");
    ParamChecks.multipleOf(hidden, 8, "hidden");
    ParamChecks.positive(k, "k");
  }

  /** (ceil(hidden / 8 / 256), rows) CTAs, one 16-byte vector of a row per thread. */
  public LaunchShape launch() {
    int threads = Kernel.MOE_COMBINE.threads();
    return new LaunchShape((hidden / 8 + threads - 1) / threads, rows, 1, threads, 0);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
