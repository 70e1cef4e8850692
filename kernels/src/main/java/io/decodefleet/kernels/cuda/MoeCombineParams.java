package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code MoeCombineParams} in moe.cu: each live row's weighted sum of its experts'
 * outputs, summed from zero in slot order with dropped pairs skipped ({@code
 * reference.ExpertPermutation.combine}); padding rows get zeros. An expert-parallel rank sums only
 * the pairs routed to its own experts {@code [expertLo, expertHi)}, in float32: its partial of the
 * row, which the group's all-reduce completes.
 *
 * @param out (rows, hidden) bf16, or float32 when {@code outF32} is 1
 * @param y (rows * k, hidden) bf16 in expert order
 * @param rowOf (rows, k) int32, -1 where dropped
 * @param weights (rows, k) float32
 * @param liveRows device int32, the step's real rows; 0: all {@code rows}
 * @param experts (rows, k) int32, the routing; 0: every expert is this device's
 * @param hidden a multiple of 8
 */
public record MoeCombineParams(long out, long y, long rowOf, long weights, long liveRows, long experts, int rows,
    int hidden, int k, int expertLo, int expertHi, int outF32) implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(MoeCombineParams.class);

  /** One device's combine: every expert, bf16 out. */
  public MoeCombineParams(long out, long y, long rowOf, long weights, long liveRows, int rows, int hidden, int k) {
    this(out, y, rowOf, weights, liveRows, 0, rows, hidden, k, 0, 0, 0);
  }

  /** An expert-parallel rank's float32 partial: only pairs routed to experts {@code [lo, hi)}. */
  public static MoeCombineParams partial(long out, long y, long rowOf, long weights, long liveRows, long experts,
      int rows, int hidden, int k, int lo, int hi) {
    ParamChecks.pointer(experts, "experts");
    if (lo < 0 || hi <= lo) throw new IllegalArgumentException("expert range [" + lo + ", " + hi + ") is empty");
    return new MoeCombineParams(out, y, rowOf, weights, liveRows, experts, rows, hidden, k, lo, hi, 1);
  }

  public MoeCombineParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(y, "y");
    ParamChecks.pointer(rowOf, "rowOf");
    ParamChecks.pointer(weights, "weights");
    ParamChecks.nonNegative(rows, "rows");
    ParamChecks.positive(hidden, "hidden");
    ParamChecks.multipleOf(hidden, 8, "hidden");
    ParamChecks.positive(k, "k");
    if (outF32 != 0 && outF32 != 1) throw new IllegalArgumentException("outF32 must be 0 or 1, got " + outF32);
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
