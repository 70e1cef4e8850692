package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code SkinnyGemmParams} in skinny_gemm.cu: {@code out = x · wᵀ} for few x rows.
 *
 * @param out (m, outStride) bf16
 * @param x (m, k) bf16
 * @param w (n, k) bf16
 * @param workspace {@link SkinnyGemmPlan#workspaceFloats()} float32 (0 when splits == 1)
 * @param counters {@link SkinnyGemmPlan#counterCount()} int32, zeroed once (0 when splits == 1)
 * @param outFloat 1: out is (m, outStride) float32 (a tensor-parallel rank's partial sums), else 0
 * @param earlyWeights 1: {@code w} is resident (no earlier launch of the stream writes it), so the kernel
 *     fetches its first stages before it waits for the previous launch (programmatic dependent launch,
 *     common.cuh {@code pdl_entry}); 0 where {@code w} may be the previous launch's output (a widened
 *     FP8 weight in scratch)
 */
public record SkinnyGemmParams(
    long out,
    long x,
    long w,
    long workspace,
    long counters,
    int m,
    int n,
    int k,
    int outStride,
    int kSlice,
    int splits,
    int outFloat,
    int earlyWeights)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(SkinnyGemmParams.class);

  public SkinnyGemmParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(x, "x");
    ParamChecks.pointer(w, "w");
    ParamChecks.positive(m, "m");
    ParamChecks.positive(n, "n");
    ParamChecks.positive(k, "k");
    ParamChecks.multipleOf(k, 8, "k");
    ParamChecks.positive(kSlice, "kSlice");
    ParamChecks.multipleOf(kSlice, 32, "kSlice");
    ParamChecks.positive(splits, "splits");
    ParamChecks.flag(outFloat, "outFloat");
    ParamChecks.flag(earlyWeights, "earlyWeights");
    if (splits > 1) {
      ParamChecks.pointer(workspace, "workspace");
      ParamChecks.pointer(counters, "counters");
    }
    if (outStride < n) {
      throw new IllegalArgumentException("outStride (" + outStride + ") must be >= n (" + n + ")");
    }
  }

  /** The parameters of the launch {@code plan} describes, bf16 out. */
  public static SkinnyGemmParams of(
      SkinnyGemmPlan plan, long out, long x, long w, long workspace, long counters,
      int outStride) {
    return of(plan, out, x, w, workspace, counters, outStride, false);
  }

  /** The parameters of the launch {@code plan} describes; float32 out when {@code outFloat}. */
  public static SkinnyGemmParams of(
      SkinnyGemmPlan plan, long out, long x, long w, long workspace, long counters,
      int outStride, boolean outFloat) {
    return new SkinnyGemmParams(
        out, x, w, workspace, counters, plan.m(), plan.n(), plan.k(), outStride, plan.kSlice(),
        plan.splits(), outFloat ? 1 : 0, 0);
  }

  /** These parameters for a resident {@code w}: its first stages fetched before the wait on the previous launch. */
  public SkinnyGemmParams withEarlyWeights() {
    return new SkinnyGemmParams(out, x, w, workspace, counters, m, n, k, outStride, kSlice, splits, outFloat, 1);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
