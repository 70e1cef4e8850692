package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.gemm.CublasLtGemms;
import io.decodefleet.agent.backend.cuda.gemm.GemmShape;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.backend.cuda.gemm.Skinny2Gemms;
import io.decodefleet.agent.backend.cuda.gemm.WgmmaGemms;
import io.decodefleet.agent.tools.selfcheck.DeviceHarness;
import io.decodefleet.kernels.cuda.GemvFp8Params;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.LaunchShape;
import io.decodefleet.kernels.cuda.Skinny2GemmFp8Params;
import io.decodefleet.kernels.cuda.Skinny2GemmPlan;
import io.decodefleet.kernels.cuda.SkinnyGemmFp8Params;
import io.decodefleet.kernels.cuda.SkinnyGemmPlan;
import io.decodefleet.kernels.cuda.WgmmaGemmFp8Params;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The FP8-weight decode GEMMs of {@code bench kernels --only gemm}: at one row our FP8 GEMV, our FP8
 * skinny GEMM, where the tensor-map shim is loaded the FP8 second skinny GEMM (up to 64 rows), and on sm_90
 * from 33 rows the FP8 skinny GEMM on wgmma and from {@link
 * io.decodefleet.agent.backend.cuda.gemm.GemmTuner#WGMMA_MIN_ROWS} rows our wgmma GEMM over FP8
 * weights, side by side on the Llama-3-8B projections at {@link #M} rows. fp8-dynamic's FP8 x FP8 GEMMs follow
 * from 8 to 64 rows, on codes of x with a scale per row: ours:skinny2-fp8x8 where the shim is loaded, and
 * cuBLASLt's with per-row scales (the heuristic's first algorithm, as the backend launches it) where it is.
 * Bytes are the FP8 weight's (one a weight) plus its float32 row scales, so the floor is about half the bf16
 * rows'; inputs rotate past the L2 as theirs do.
 */
final class Fp8GemmBench {

  /** The depth of the projections of the hidden state (Llama-3-8B's qkv, o and gate_up), and gate_up's rows. */
  private static final int NORMED_K = 4096;
  private static final int GATE_UP_N = 28672;

  /** Rows of x timed: batch 1 and decode graph buckets up to the engine's largest (256). */
  static final int[] M = {1, 8, 16, 32, 64, 128, 256};

  private Fp8GemmBench() {}

  /** The inputs of one (m, n, k) point: {@code sets} copies of the codes and of x, one row-scale vector. */
  private record Inputs(int m, int n, int k, int sets, DeviceBuffer w, DeviceBuffer x, DeviceBuffer scales,
      DeviceBuffer out, int launches) {
    static Inputs of(DeviceHarness h, int m, int n, int k) {
      int sets = BenchPool.inputSets((long) n * k, h.gpu().l2Bytes());
      DeviceBuffer w = BenchPool.randomFp8(h, (long) sets * n * k, 3, 1f);
      DeviceBuffer x = BenchPool.randomBf16(h, (long) sets * m * k, 4, 1f);
      DeviceBuffer scales = h.track(h.context().allocate(4L * n));
      float[] s = new float[n];
      Arrays.fill(s, 0.05f / 448);
      scales.upload(s);
      return new Inputs(m, n, k, sets, w, x, scales, h.poisonedBf16((long) m * n),
          Math.max(BenchPool.MIN_LAUNCHES, sets));
    }

    long w(int set) {
      return w.address((long) set * n * k);
    }

    long x(int set) {
      return x.address(2L * set * m * k);
    }

    long bytes() {
      return (long) n * k + 4L * n;
    }

    BenchResult result(String kernel, String variant, Map<String, Long> shape, double us, double copyPerUs) {
      return new BenchResult(kernel, variant, shape, us, bytes(), bytes() / copyPerUs, sets, launches);
    }
  }

  /** Every point's rows, in the order printed. */
  static List<BenchResult> run(DeviceHarness h, double copyPerUs, boolean withSkinny2, boolean withWgmma,
      boolean withLt) {
    List<BenchResult> rows = new ArrayList<>();
    for (int[] nk : KernelBench.GEMM_NK) {
      for (int m : M) {
        if (GemvFp8Params.supports(m, nk[1])) {
          for (boolean mma : new boolean[] {false, true}) {
            if (mma && !GemvFp8Params.mmaFits(nk[0], nk[1])) continue;
            rows.add(gemv(h, nk[0], nk[1], mma, copyPerUs));
            h.freeAll();
            if (nk[1] == NORMED_K) { // a projection of the hidden state: the norm may run in front
              rows.add(gemvFused(h, nk[0], nk[1], false, mma, copyPerUs));
              h.freeAll();
              if (nk[0] == GATE_UP_N) {
                rows.addAll(gemvFused(h, nk[0], nk[1], true, mma, copyPerUs, mma));
                h.freeAll();
              }
            }
          }
        }
        rows.add(skinny(h, m, nk[0], nk[1], copyPerUs));
        h.freeAll();
        if (withSkinny2 && m <= Skinny2GemmFp8Params.MAX_M) {
          rows.add(skinny2(h, m, nk[0], nk[1], copyPerUs));
          h.freeAll();
        }
        if (withWgmma && m >= GemmTuner.SKINNY_FP8_WGMMA_MIN_ROWS) {
          rows.add(skinnyWgmma(h, m, nk[0], nk[1], copyPerUs));
          h.freeAll();
        }
        if (withWgmma && m >= GemmTuner.WGMMA_MIN_ROWS) {
          rows.add(wgmma(h, m, nk[0], nk[1], copyPerUs));
          h.freeAll();
        }
        if (m >= CODES_MIN_M && m <= Skinny2GemmFp8Params.MAX_M) {
          for (CodesGemm g : CodesGemm.values()) {
            if (!g.runs(h, withSkinny2, withLt)) continue;
            rows.add(codes(h, m, nk[0], nk[1], g, 0, copyPerUs));
            h.freeAll();
            if (g != CodesGemm.WGMMA) continue;
            // The wgmma variant at fewer slices of k than its planner's, as fp8-dynamic's load times it.
            int slots = h.kernels().slots(Skinny2GemmFp8Params.kernelForCodes(m, true));
            Skinny2GemmPlan planned = Skinny2GemmFp8Params.planCodes(m, nk[0], nk[1], slots);
            for (Skinny2GemmPlan fewer : planned.withFewerSplits(slots)) {
              rows.add(codes(h, m, nk[0], nk[1], g, fewer.splits(), copyPerUs));
              h.freeAll();
            }
          }
        }
      }
    }
    return rows;
  }

  /**
   * Our FP8 GEMV of one row as the backend launches it (resident codes): a warp a row (gemv_fp8.cu), or with
   * {@code mma} on the tensor cores (gemv_fp8_mma.cu) where the shape fits.
   */
  static BenchResult gemv(DeviceHarness h, int n, int k, boolean mma, double copyPerUs) {
    Inputs in = Inputs.of(h, 1, n, k);
    return gemvRow(h, in, "gemv", mma, params(in.sets(), GemvFp8Params[]::new,
        i -> GemvFp8Params.resident(in.out().address(), in.x(i), in.w(i), in.scales().address(), n, k, n, false)),
        copyPerUs);
  }

  /**
   * The GEMV with the residual add and RMSNorm in front, and with {@code swiglu} SwiGLU behind (n gate_up
   * rows), as a one-row step runs qkv and gate_up: the cost of what it does beside the stream.
   */
  static BenchResult gemvFused(DeviceHarness h, int n, int k, boolean swiglu, boolean mma, double copyPerUs) {
    return gemvFused(h, n, k, swiglu, mma, copyPerUs, false).get(0);
  }

  /**
   * As above; where {@code everyPlan}, also a row for each other count of warps a task on the tensor cores
   * ("w=N"), to check the plan's choice.
   */
  static List<BenchResult> gemvFused(DeviceHarness h, int n, int k, boolean swiglu, boolean mma, double copyPerUs,
      boolean everyPlan) {
    Inputs in = Inputs.of(h, 1, n, k);
    long residual = BenchPool.randomBf16(h, k, 5, 1f).address();
    long residualOut = h.poisonedBf16(k).address();
    long weight = BenchPool.randomBf16(h, k, 6, 1f).address();
    GemvFp8Params[] params = params(in.sets(), GemvFp8Params[]::new, i -> (swiglu
        ? GemvFp8Params.swigluOut(in.out().address(), in.x(i), in.w(i), in.scales().address(), n, k, n / 2)
        : GemvFp8Params.resident(in.out().address(), in.x(i), in.w(i), in.scales().address(), n, k, n, false))
        .withNorm(residual, residualOut, weight, 1e-5f));
    String variant = swiglu ? "gemv norm+swiglu" : "gemv norm";
    List<BenchResult> rows = new ArrayList<>(List.of(gemvRow(h, in, variant, mma, params, copyPerUs, 0)));
    for (int w : everyPlan ? BenchPool.otherTaskWarps(h, params[0], mma) : new int[0]) {
      rows.add(gemvRow(h, in, variant, mma, params, copyPerUs, w));
    }
    return rows;
  }

  private static BenchResult gemvRow(DeviceHarness h, Inputs in, String variant, boolean mma,
      GemvFp8Params[] params, double copyPerUs) {
    return gemvRow(h, in, variant, mma, params, copyPerUs, 0);
  }

  /** One GEMV row; {@code taskWarps} 0 as planned, else that many warps a task on the tensor cores ("w=N"). */
  private static BenchResult gemvRow(DeviceHarness h, Inputs in, String variant, boolean mma,
      GemvFp8Params[] params, double copyPerUs, int taskWarps) {
    double us = BenchPool.gemvMedianUs(h, in.launches(), params, mma, taskWarps);
    boolean onTensorCores = BenchPool.gemvPlan(h, params[0], mma, 0).kernel() == Kernel.GEMV_FP8_MMA_M1;
    return in.result("gemm_fp8", variant + (onTensorCores ? " mma" : "") + (taskWarps > 0 ? " w=" + taskWarps : ""),
        KernelBench.gemmShape(1, in.n(), in.k()), us, copyPerUs);
  }

  /** Our wgmma GEMM over FP8 weights (sm_90); its tensor maps are encoded before the capture. */
  static BenchResult wgmma(DeviceHarness h, int m, int n, int k, double copyPerUs) {
    Inputs in = Inputs.of(h, m, n, k);
    WgmmaGemms gemms = new WgmmaGemms(h.kernels(), h.stream());
    GemmShape s = new GemmShape(m, n, k, n, false);
    WgmmaGemmFp8Params[] params = params(in.sets(), WgmmaGemmFp8Params[]::new,
        i -> gemms.paramsFp8(s, in.out().address(), in.x(i), in.w(i), in.scales().address(), true));
    LaunchShape grid = params[0].launch(h.gpu().smCount());
    double us = BenchPool.graphMedianUs(h, in.launches(), i -> h.launch(Kernel.WGMMA_GEMM_FP8, grid,
        params[i % in.sets()]));
    return in.result("gemm_fp8", "wgmma", KernelBench.gemmShape(m, n, k), us, copyPerUs);
  }

  static BenchResult skinny(DeviceHarness h, int m, int n, int k, double copyPerUs) {
    return skinny(h, m, n, k, copyPerUs, false);
  }

  /** The FP8 skinny GEMM on wgmma (sm_90) on the m64 plan, as the backend launches it. */
  static BenchResult skinnyWgmma(DeviceHarness h, int m, int n, int k, double copyPerUs) {
    return skinny(h, m, n, k, copyPerUs, true);
  }

  /** Either FP8 skinny GEMM on the plan for the shape, launched as the backend launches it. */
  private static BenchResult skinny(DeviceHarness h, int m, int n, int k, double copyPerUs, boolean wgmma) {
    Inputs in = Inputs.of(h, m, n, k);
    SkinnyGemmPlan plan = SkinnyGemmPlan.plan(m, n, k, h.kernels().slots(SkinnyGemmPlan.kernelFor(m)));
    long workspace = plan.splits() > 1 ? h.poisonedF32(plan.workspaceFloats()).address() : 0;
    long counters = plan.splits() > 1 ? h.zeroedInts(plan.counterCount()).address() : 0;
    Kernel kernel = wgmma ? Kernel.SKINNY_GEMM_FP8_WGMMA : SkinnyGemmFp8Params.kernelFor(plan);
    LaunchShape grid = wgmma ? SkinnyGemmFp8Params.wgmmaLaunch(plan) : SkinnyGemmFp8Params.launch(plan);
    SkinnyGemmFp8Params[] params = params(in.sets(), SkinnyGemmFp8Params[]::new, s -> {
      SkinnyGemmFp8Params p = SkinnyGemmFp8Params.of(plan, in.out().address(), in.x(s), in.w(s),
          in.scales().address(), workspace, counters, n, false);
      return wgmma ? p : p.withEarlyWeights();
    });
    double us = BenchPool.graphMedianUs(h, in.launches(), i -> h.launch(kernel, grid, params[i % in.sets()]));
    Map<String, Long> shape = KernelBench.gemmShape(m, n, k);
    shape.put("splits", (long) plan.splits());
    return in.result("skinny_gemm_fp8", wgmma ? "wgmma" : kernel.symbol().substring(3), shape, us, copyPerUs);
  }

  /** The FP8 second skinny GEMM; the codes' tensor maps are encoded before the capture. */
  static BenchResult skinny2(DeviceHarness h, int m, int n, int k, double copyPerUs) {
    Inputs in = Inputs.of(h, m, n, k);
    Kernel kernel = Skinny2GemmFp8Params.kernelFor(m);
    Skinny2GemmPlan plan = Skinny2GemmFp8Params.plan(m, n, k, h.kernels().slots(kernel));
    long workspace = plan.splits() > 1 ? h.poisonedF32(plan.workspaceFloats()).address() : 0;
    long counters = plan.splits() > 1 ? h.zeroedInts(plan.counterCount()).address() : 0;
    Skinny2Gemms gemms = new Skinny2Gemms(h.kernels(), h.stream());
    Skinny2GemmFp8Params[] params = params(in.sets(), Skinny2GemmFp8Params[]::new,
        s -> gemms.paramsFp8(plan, in.out().address(), in.x(s), in.w(s), in.scales().address(), workspace, counters,
            n, false));
    double us = BenchPool.graphMedianUs(h, in.launches(),
        i -> h.launch(kernel, Skinny2GemmFp8Params.launch(plan), params[i % in.sets()]));
    Map<String, Long> shape = KernelBench.gemmShape(m, n, k);
    shape.put("splits", (long) plan.splits());
    shape.put("ctas", (long) plan.ctas());
    return in.result("skinny2_gemm_fp8", kernel.symbol().substring(3), shape, us, copyPerUs);
  }

  /** The fewest rows of fp8-dynamic's FP8 x FP8 points (one row runs the x-codes GEMV). */
  static final int CODES_MIN_M = 8;

  /** fp8-dynamic's FP8 x FP8 GEMMs of several rows: ours on mma.sync, ours on wgmma (sm_90a), cuBLASLt. */
  enum CodesGemm {
    MMA,
    WGMMA,
    CUBLASLT;

    boolean runs(DeviceHarness h, boolean withSkinny2, boolean withLt) {
      return switch (this) {
        case MMA -> withSkinny2;
        case WGMMA -> withSkinny2
            && Skinny2GemmFp8Params.wgmmaRunsOn(h.context().gpu().computeMajor(), h.context().gpu().computeMinor());
        case CUBLASLT -> withLt;
      };
    }
  }

  /**
   * fp8-dynamic's FP8 x FP8 GEMM of m rows of codes with a scale per row: ours:skinny2-fp8x8 on mma.sync or wgmma,
   * or cuBLASLt's outer-vector-scaled FP8 GEMM on its heuristic's first algorithm. The quantization in front (the
   * same launch for all) is not in the time.
   */
  static BenchResult codes(DeviceHarness h, int m, int n, int k, CodesGemm gemm, int splits, double copyPerUs) {
    Inputs in = Inputs.of(h, m, n, k);
    DeviceBuffer xCodes = BenchPool.randomFp8(h, (long) in.sets() * m * k, 5, 1f);
    DeviceBuffer xScales = h.track(h.context().allocate(4L * m));
    float[] s = new float[m];
    Arrays.fill(s, 1f / 448);
    xScales.upload(s);
    long out = in.out().address();
    long ws = in.scales().address();
    Map<String, Long> shape = KernelBench.gemmShape(m, n, k);
    if (gemm == CodesGemm.CUBLASLT) {
      GemmShape g = new GemmShape(m, n, k, n, false);
      try (CublasLtGemms gemms = CublasLtGemms.open(h.context(), h.stream())) {
        gemms.launchFp8(g, 0, out, xCodes.address(), xScales.address(), in.w(0), ws); // first use outside the capture
        double us = BenchPool.graphMedianUs(h, in.launches(), i -> gemms.launchFp8(g, 0, out,
            xCodes.address((long) (i % in.sets()) * m * k), xScales.address(), in.w(i % in.sets()), ws));
        return in.result("fp8x8_gemm", "cublaslt#0", shape, us, copyPerUs);
      }
    }
    boolean wgmma = gemm == CodesGemm.WGMMA;
    Kernel kernel = Skinny2GemmFp8Params.kernelForCodes(m, wgmma);
    Skinny2GemmPlan plan = Skinny2GemmFp8Params.planCodes(m, n, k, h.kernels().slots(kernel), splits);
    long workspace = plan.splits() > 1 ? h.poisonedF32(plan.workspaceFloats()).address() : 0;
    long counters = plan.splits() > 1 ? h.zeroedInts(plan.counterCount()).address() : 0;
    Skinny2Gemms gemms = new Skinny2Gemms(h.kernels(), h.stream());
    gemms.launchCodes(wgmma, plan, out, xCodes.address(), xScales.address(), in.w(0), ws, workspace, counters, n,
        false);
    double us = BenchPool.graphMedianUs(h, in.launches(), i -> gemms.launchCodes(wgmma, plan, out,
        xCodes.address((long) (i % in.sets()) * m * k), xScales.address(), in.w(i % in.sets()), ws, workspace,
        counters, n, false));
    shape.put("splits", (long) plan.splits());
    shape.put("ctas", (long) plan.ctas());
    return in.result("fp8x8_gemm", kernel.symbol().substring(3), shape, us, copyPerUs);
  }

  private static <T> T[] params(int sets, IntFunction<T[]> array, IntFunction<T> of) {
    T[] p = array.apply(sets);
    for (int s = 0; s < sets; s++) p[s] = of.apply(s);
    return p;
  }
}
