package io.decodefleet.agent.backend.cuda.gemm;

import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.driver.TensorMaps;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.Skinny2GemmFp8Params;
import io.decodefleet.kernels.cuda.Skinny2GemmParams;
import io.decodefleet.kernels.cuda.Skinny2GemmPlan;
import java.util.function.IntFunction;

/**
 * Launches our second skinny GEMM ({@code df_skinny2_gemm_m*}, "ours:skinny2"): its producer warp
 * brings each stage's 64 weight rows in with one tensor copy, so every launch needs the weight's
 * tensor map; the map of each (weight, shape) is encoded once and the most recent {@value
 * #KEPT_MAPS} are kept (one per weight matrix: the map does not depend on the rows of x), so a
 * decode step's launches and graph captures reuse them.
 *
 * <p>It runs where {@link #unavailabilityCause()} is empty: the tensor-map shim is loaded (the
 * kernel itself is plain sm_90 code, so every device the fatbin loads on runs it). Whether the
 * dispatch may choose it is {@link GemmTuner#SKINNY2_SETTING_ENV}; {@code --gemm skinny2}, the
 * self-test and {@code bench kernels} run it regardless.
 *
 * <p>Its FP8 twin ({@code df_skinny2_gemm_fp8_m*}, {@link #launchFp8}) runs the same plans over e4m3
 * codes through a UINT8 map of the codes; the two kinds of map share the cache (their specs differ
 * in element type, so a weight never gets the other's map).
 */
public final class Skinny2Gemms {

  /** Weight maps kept: every projection of an 80-layer model and its LM head, with room to spare. */
  static final int KEPT_MAPS = 1024;

  private final KernelModule kernels;
  private final CudaStream stream;
  private final TensorMapCache maps;
  private final boolean codesOnWgmma;

  public Skinny2Gemms(KernelModule kernels, CudaStream stream) {
    String cause = unavailabilityCause();
    if (!cause.isEmpty()) {
      throw new IllegalStateException(cause);
    }
    this.kernels = kernels;
    this.stream = stream;
    this.maps = new TensorMapCache(kernels.context().gpu(), KEPT_MAPS);
    GpuInfo gpu = kernels.context().gpu();
    this.codesOnWgmma = Skinny2GemmFp8Params.wgmmaRunsOn(gpu.computeMajor(), gpu.computeMinor());
  }

  /** Whether {@link #launchCodes} runs the codes GEMM's wgmma variants here (sm_90a), else its mma.sync ones. */
  public boolean codesOnWgmma() {
    return codesOnWgmma;
  }

  /** The codes GEMM's variant {@link #launchCodes} runs for {@code m} rows here. */
  public Kernel codesKernel(int m) {
    return Skinny2GemmFp8Params.kernelForCodes(m, codesOnWgmma);
  }

  /** The codes GEMM's name as the load line and reports give it: ours:skinny2-fp8x8, -wgmma where that runs. */
  public String codesName() {
    return codesOnWgmma ? "ours:skinny2-fp8x8-wgmma" : "ours:skinny2-fp8x8";
  }

  /** Empty when the kernel can run here; else why not, in one line. */
  public static String unavailabilityCause() {
    String shim = TensorMaps.unavailabilityCause();
    return shim.isEmpty() ? "" : "ours:skinny2 reads its weights through a tensor map; " + shim;
  }

  /** Whether x and w start where its copies may (16-byte aligned); elsewhere the caller runs another GEMM. */
  public static boolean aligned(long x, long w) {
    return ((x | w) & 15) == 0;
  }

  /** The launch parameters of {@code plan} on these operands, the weight's tensor map encoded or reused. */
  public Skinny2GemmParams params(Skinny2GemmPlan plan, long out, long x, long w, long workspace, long counters,
      int outStride, boolean outFloat) {
    return plan.params(maps.get(plan.wMapSpec(w)), out, x, workspace, counters, outStride, outFloat);
  }

  /** Enqueues y = x · wᵀ as {@code plan} describes it on the stream. */
  public void launch(Skinny2GemmPlan plan, long out, long x, long w, long workspace, long counters, int outStride,
      boolean outFloat) {
    kernels.launch(plan.kernel(), plan.launch(), params(plan, out, x, w, workspace, counters, outStride, outFloat),
        stream);
  }

  /** The launch parameters of {@code plan} over FP8 codes {@code w} with row scales {@code scales}, the map encoded or reused. */
  public Skinny2GemmFp8Params paramsFp8(Skinny2GemmPlan plan, long out, long x, long w, long scales, long workspace,
      long counters, int outStride, boolean outFloat) {
    return Skinny2GemmFp8Params.of(plan, maps.get(Skinny2GemmFp8Params.wMapSpec(w, plan.n(), plan.k())), out, x,
        scales, workspace, counters, outStride, outFloat);
  }

  /**
   * Enqueues y = (x · e4m3(w)ᵀ) * scale[row] for {@code m} rows of x (m, k) into out (m, outStride), one
   * launch per {@value Skinny2GemmFp8Params#MAX_M} rows (each past the first streams the codes again),
   * each on the plan {@code planFor} gives for its row count. The launches share the split-K scratch:
   * one stream, and each leaves its counters zero.
   */
  public void launchFp8Rows(IntFunction<Skinny2GemmPlan> planFor, long out, long x, long w, long scales,
      long workspace, long counters, int m, int k, int outStride, boolean outFloat) {
    long outRowBytes = (long) outStride * (outFloat ? 4 : 2);
    for (int r0 = 0; r0 < m; r0 += Skinny2GemmFp8Params.MAX_M) {
      int rows = Math.min(Skinny2GemmFp8Params.MAX_M, m - r0);
      launchFp8(planFor.apply(rows), out + r0 * outRowBytes, x + 2L * r0 * k, w, scales, workspace, counters,
          outStride, outFloat);
    }
  }

  /**
   * Enqueues y = (xCodes · wᵀ) * xScales[row of x] * scales[row of w] as {@code plan} (from {@link
   * Skinny2GemmFp8Params#planCodes}) describes it, on the codes-by-codes variant this device runs ({@link
   * #codesOnWgmma}); x's map is cached beside the weights' (one per codes buffer, row count and depth).
   */
  public void launchCodes(Skinny2GemmPlan plan, long out, long xCodes, long xScales, long w, long scales,
      long workspace, long counters, int outStride, boolean outFloat) {
    launchCodes(codesOnWgmma, plan, out, xCodes, xScales, w, scales, workspace, counters, outStride, outFloat);
  }

  /**
   * {@link #launchCodes} on the variant named: wgmma (skinny2_gemm_fp8x8_wgmma.cu, sm_90a only) or mma.sync
   * (skinny2_gemm_fp8x8.cu); the self-test and {@code bench kernels} run both where both run.
   */
  public void launchCodes(boolean wgmma, Skinny2GemmPlan plan, long out, long xCodes, long xScales, long w,
      long scales, long workspace, long counters, int outStride, boolean outFloat) {
    Kernel kernel = Skinny2GemmFp8Params.kernelForCodes(plan.m(), wgmma);
    if (!kernels.runsHere(kernel)) {
      throw new IllegalStateException(kernel.symbol() + " is sm_90a code; " + kernels.context().gpu().label()
          + " is " + kernels.context().gpu().arch());
    }
    Skinny2GemmFp8Params p = Skinny2GemmFp8Params.ofCodes(plan,
        maps.get(Skinny2GemmFp8Params.wMapSpecCodes(w, plan.n(), plan.k(), wgmma)),
        maps.get(Skinny2GemmFp8Params.xMapSpec(xCodes, plan, wgmma)), out, xCodes, xScales, scales, workspace,
        counters, outStride, outFloat);
    kernels.launch(kernel, Skinny2GemmFp8Params.launchCodes(plan, wgmma), p, stream);
  }

  /** Enqueues y = (x · e4m3(w)ᵀ) * scale[row] as {@code plan} describes it, on the FP8 variant of its kernel. */
  public void launchFp8(Skinny2GemmPlan plan, long out, long x, long w, long scales, long workspace, long counters,
      int outStride, boolean outFloat) {
    kernels.launch(Skinny2GemmFp8Params.kernelFor(plan), Skinny2GemmFp8Params.launch(plan),
        paramsFp8(plan, out, x, w, scales, workspace, counters, outStride, outFloat), stream);
  }
}
