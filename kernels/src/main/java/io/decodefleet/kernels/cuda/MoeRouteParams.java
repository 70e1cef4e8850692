package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code MoeRouteParams} in moe.cu: each live row's top-k experts and their weights from
 * its float32 gate logits, as {@code reference.MoeRouter} routes them (the softmax's sum taken per lane
 * and then across lanes, as {@code MoeRouter.sumInLaneOrder} adds, ties to the lower expert id,
 * renormalised in slot order).
 *
 * @param experts (rows, k) int32
 * @param weights (rows, k) float32
 * @param logits (rows, logitStride) float32
 * @param liveRows device int32: rows of the step that are real (a graph's padding rows are not
 *     routed); 0 (null): all {@code rows}
 * @param skip device int32: non-zero leaves {@code experts} and {@code weights} as they are (a
 *     routing given from the host); 0 (null): always route
 * @param normTopk 1: the k weights are divided by their sum
 */
public record MoeRouteParams(long experts, long weights, long logits, long liveRows, long skip, int rows,
    int numExperts, int k, int logitStride, int normTopk) implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(MoeRouteParams.class);
  /** Experts a router kernel holds: 8 per lane of a warp. */
  public static final int MAX_EXPERTS = 256;
  /** Experts per token: one lane of the warp writes each slot. */
  public static final int MAX_K = 32;

  public MoeRouteParams {
    ParamChecks.pointer(experts, "experts");
    ParamChecks.pointer(weights, "weights");
    ParamChecks.pointer(logits, "logits");
    ParamChecks.nonNegative(rows, "rows");
    checkExperts(numExperts, k);
    if (logitStride < numExperts) {
      throw new IllegalArgumentException("logitStride (" + logitStride + ") must be >= numExperts (" + numExperts
          + ")");
    }
    ParamChecks.flag(normTopk, "normTopk");
  }

  /** The limits every MoE kernel shares: 2..256 experts, 1..min(32, numExperts) of them per token. */
  public static void checkExperts(int numExperts, int k) {
    if (numExperts < 2 || numExperts > MAX_EXPERTS) {
      throw new IllegalArgumentException("numExperts must be in 2.." + MAX_EXPERTS + " but is " + numExperts);
    }
    if (k < 1 || k > Math.min(MAX_K, numExperts)) {
      throw new IllegalArgumentException("k must be in 1.." + Math.min(MAX_K, numExperts) + " but is " + k);
    }
  }

  /** One warp per row, 4 rows per CTA. */
  public LaunchShape launch() {
    int perCta = Kernel.MOE_ROUTE.threads() / 32;
    return LaunchShape.grid1d((rows + perCta - 1) / perCta, Kernel.MOE_ROUTE);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
