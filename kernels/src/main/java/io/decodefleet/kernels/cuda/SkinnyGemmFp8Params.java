package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code SkinnyGemmFp8Params} in skinny_gemm_fp8.cu: the skinny GEMM of {@link
 * SkinnyGemmParams} over FP8 e4m3 weights with a float32 scale per weight row, {@code out = (x ·
 * e4m3(w)ᵀ) * scale[row]}. A launch follows a {@link SkinnyGemmPlan} made for the bf16 kernel of
 * the same m (same tiles, splits and workspace), on the FP8 variant of that kernel.
 *
 * @param w (n, k) e4m3 codes
 * @param scale (n) float32
 * @param earlyWeights 1: the codes' first stages are fetched before the wait on the previous launch, as
 *     {@link SkinnyGemmParams#earlyWeights()} says (codes are always resident: the engine never writes
 *     them in a step)
 */
public record SkinnyGemmFp8Params(
    long out,
    long x,
    long w,
    long scale,
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

  public static final StructLayout LAYOUT = StructLayout.of(SkinnyGemmFp8Params.class);

  public SkinnyGemmFp8Params {
    new SkinnyGemmParams(out, x, w, workspace, counters, m, n, k, outStride, kSlice, splits, outFloat, earlyWeights);
    ParamChecks.pointer(scale, "scale");
    ParamChecks.multipleOf(k, 16, "k");
  }

  /** The launch {@code plan} describes, over FP8 weights {@code w} with row scales {@code scale}. */
  public static SkinnyGemmFp8Params of(SkinnyGemmPlan plan, long out, long x, long w, long scale, long workspace,
      long counters, int outStride, boolean outFloat) {
    return new SkinnyGemmFp8Params(out, x, w, scale, workspace, counters, plan.m(), plan.n(), plan.k(), outStride,
        plan.kSlice(), plan.splits(), outFloat ? 1 : 0, 0);
  }

  /** These parameters with the codes' first stages fetched before the wait on the previous launch. */
  public SkinnyGemmFp8Params withEarlyWeights() {
    return new SkinnyGemmFp8Params(out, x, w, scale, workspace, counters, m, n, k, outStride, kSlice, splits,
        outFloat, 1);
  }

  /** The FP8 variant of the plan's bf16 kernel. */
  public static Kernel kernelFor(SkinnyGemmPlan plan) {
    return switch (plan.kernel()) {
      case SKINNY_GEMM_M8 -> Kernel.SKINNY_GEMM_FP8_M8;
      case SKINNY_GEMM_M16 -> Kernel.SKINNY_GEMM_FP8_M16;
      case SKINNY_GEMM_M32 -> Kernel.SKINNY_GEMM_FP8_M32;
      case SKINNY_GEMM_M64 -> Kernel.SKINNY_GEMM_FP8_M64;
      default -> throw new AssertionError(plan.kernel());
    };
  }

  /**
   * Whether {@link Kernel#SKINNY_GEMM_FP8_WGMMA} runs {@code plan}: it takes the m64 variant's tiles (128
   * weight rows and 64 x rows a CTA), so plans of more than 32 rows, with k a multiple of 16.
   */
  public static boolean wgmmaTakes(SkinnyGemmPlan plan) {
    return plan.kernel() == Kernel.SKINNY_GEMM_M64 && plan.k() % 16 == 0;
  }

  /** The plan's grid on {@link Kernel#SKINNY_GEMM_FP8_WGMMA} (see {@link #wgmmaTakes}). */
  public static LaunchShape wgmmaLaunch(SkinnyGemmPlan plan) {
    if (!wgmmaTakes(plan)) {
      throw new IllegalArgumentException("the FP8 wgmma skinny GEMM takes m64 plans with k a multiple of 16, not "
          + plan);
    }
    LaunchShape s = plan.launch();
    Kernel k = Kernel.SKINNY_GEMM_FP8_WGMMA;
    return new LaunchShape(s.gridX(), s.gridY(), s.gridZ(), k.threads(), k.sharedBytes());
  }

  /** The plan's grid, with the FP8 kernel's threads and shared memory. */
  public static LaunchShape launch(SkinnyGemmPlan plan) {
    LaunchShape s = plan.launch();
    Kernel k = kernelFor(plan);
    return new LaunchShape(s.gridX(), s.gridY(), s.gridZ(), k.threads(), k.sharedBytes());
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
