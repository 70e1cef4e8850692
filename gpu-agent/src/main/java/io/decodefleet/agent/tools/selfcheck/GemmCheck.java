package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.gemm.CublasLtGemms;
import io.decodefleet.agent.backend.cuda.gemm.GemmShape;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.backend.cuda.gemm.Skinny2Gemms;
import io.decodefleet.agent.backend.cuda.gemm.WgmmaGemms;
import io.decodefleet.kernels.cuda.GemmParams;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.LaunchShape;
import io.decodefleet.kernels.cuda.Skinny2GemmParams;
import io.decodefleet.kernels.cuda.Skinny2GemmPlan;
import io.decodefleet.kernels.cuda.SkinnyGemmParams;
import io.decodefleet.kernels.cuda.SkinnyGemmPlan;
import io.decodefleet.kernels.cuda.WgmmaGemmParams;
import io.decodefleet.kernels.reference.Matmul;

/**
 * The skinny and skinny2 (decode), tensor-core and wgmma (prefill) GEMMs, and cuBLASLt's algorithms as the GEMM
 * dispatch runs them, against {@link Matmul}: bf16 out, or float32 out (a tensor-parallel rank's
 * partial sums, compared at float32-accumulation tolerance).
 */
final class GemmCheck {

  private GemmCheck() {}

  /** Random bf16-rounded inputs of one (m, n, k) problem and the CPU reference's x · wᵀ. */
  private record Problem(int m, int n, int k, float[] x, float[] w, float[] expected) {
    static Problem random(DeviceHarness h, int m, int n, int k) {
      float[] x = h.randomBf16(m * k, 1.0);
      float[] w = h.randomBf16(n * k, 1.0);
      float[] expected = new float[m * n];
      Matmul.matmulTransposed(x, w, m, n, k, expected);
      return new Problem(m, n, k, x, w, expected);
    }

    /** The fewest bytes one launch moves: x and w read once, out written once. */
    double bytes(boolean outFloat) {
      return 2.0 * ((double) n * k + (double) m * k) + (outFloat ? 4.0 : 2.0) * m * n;
    }
  }

  static CheckResult skinny(DeviceHarness h, int m, int n, int k) {
    return skinny(h, m, n, k, false);
  }

  static CheckResult skinny(DeviceHarness h, int m, int n, int k, boolean outFloat) {
    Problem q = Problem.random(h, m, n, k);
    Kernel kernel = SkinnyGemmPlan.kernelFor(m);
    SkinnyGemmPlan plan = SkinnyGemmPlan.plan(m, n, k, h.kernels().slots(kernel));
    DeviceBuffer out = outFloat ? h.poisonedF32((long) m * n) : h.poisonedBf16((long) m * n);
    DeviceBuffer workspace = plan.splits() > 1 ? h.poisonedF32(plan.workspaceFloats()) : null;
    long counters = plan.splits() > 1 ? h.zeroedInts(plan.counterCount()).address() : 0;
    SkinnyGemmParams p = SkinnyGemmParams.of(plan, out.address(), h.bf16(q.x()).address(),
        h.bf16(q.w()).address(), workspace == null ? 0 : workspace.address(), counters, n, outFloat)
        .withEarlyWeights(); // as the engine launches it over resident weights
    Runnable run = () -> h.launch(kernel, plan.launch(), p);
    run.run();
    double err = Compare.relError(read(h, out, m * n, outFloat), q.expected());
    double us = h.medianUs(run);
    if (outFloat) {
      out.fill32(DeviceHarness.F32_NAN);
    } else {
      out.fill16(DeviceHarness.BF16_NAN);
    }
    // Partials poisoned too: a tile summed before all its partials were written shows as NaN, not as the
    // identical partials of the launch before.
    if (workspace != null) workspace.fill32(DeviceHarness.F32_NAN);
    run.run(); // after many launches: the tile counters must have been left at zero
    err = Compare.worst(err, Compare.relError(read(h, out, m * n, outFloat), q.expected()));
    return h.result(outFloat ? "skinny gemm, f32 out" : "skinny gemm",
        String.format("m=%d n=%d k=%d splits=%d", m, n, k, plan.splits()), err,
        outFloat ? Compare.F32_ACCUMULATION : Compare.BF16, us, q.bytes(outFloat), 2.0 * m * n * k);
  }

  /**
   * Our second skinny GEMM (m ≤ 16) as the dispatch launches it, the weight's tensor map encoded as the
   * dispatch encodes it (zero fill past n and k: the shapes off the tile and the chunk); after the timed launches the
   * output and the split-K partials are poisoned and the product checked again (the tile counters
   * must have been left at zero, and a tile summed before all its partials were written shows as
   * NaN rather than as the identical partials of the launch before).
   */
  static CheckResult skinny2(DeviceHarness h, int m, int n, int k, boolean outFloat) {
    Problem q = Problem.random(h, m, n, k);
    Skinny2GemmPlan plan = Skinny2GemmPlan.plan(m, n, k, h.kernels().slots(Skinny2GemmPlan.kernelFor(m)));
    DeviceBuffer out = outFloat ? h.poisonedF32((long) m * n) : h.poisonedBf16((long) m * n);
    DeviceBuffer workspace = plan.splits() > 1 ? h.poisonedF32(plan.workspaceFloats()) : null;
    long counters = plan.splits() > 1 ? h.zeroedInts(plan.counterCount()).address() : 0;
    Skinny2GemmParams p = new Skinny2Gemms(h.kernels(), h.stream()).params(plan, out.address(),
        h.bf16(q.x()).address(), h.bf16(q.w()).address(), workspace == null ? 0 : workspace.address(), counters, n,
        outFloat);
    Runnable run = () -> h.launch(plan.kernel(), plan.launch(), p);
    run.run();
    double err = Compare.relError(read(h, out, m * n, outFloat), q.expected());
    double us = h.medianUs(run);
    if (outFloat) out.fill32(DeviceHarness.F32_NAN); else out.fill16(DeviceHarness.BF16_NAN);
    if (workspace != null) workspace.fill32(DeviceHarness.F32_NAN);
    run.run();
    err = Compare.worst(err, Compare.relError(read(h, out, m * n, outFloat), q.expected()));
    return h.result(outFloat ? "skinny2 gemm, f32 out" : "skinny2 gemm",
        String.format("m=%d n=%d k=%d splits=%d ctas=%d", m, n, k, plan.splits(), plan.ctas()), err,
        outFloat ? Compare.F32_ACCUMULATION : Compare.BF16, us, q.bytes(outFloat), 2.0 * m * n * k);
  }

  private static float[] read(DeviceHarness h, io.decodefleet.agent.backend.cuda.driver.DeviceBuffer out, int n,
      boolean outFloat) {
    return outFloat ? h.readF32(out, n) : h.readBf16(out, n);
  }

  static CheckResult tensorCore(DeviceHarness h, int m, int n, int k) {
    return tensorCore(h, m, n, k, false);
  }

  static CheckResult tensorCore(DeviceHarness h, int m, int n, int k, boolean outFloat) {
    Problem q = Problem.random(h, m, n, k);
    DeviceBuffer out = outFloat ? h.poisonedF32((long) m * n) : h.poisonedBf16((long) m * n);
    GemmParams p = new GemmParams(out.address(), h.bf16(q.x()).address(), h.bf16(q.w()).address(), m, n,
        k, n, outFloat ? 1 : 0);
    Runnable run = () -> h.launch(Kernel.GEMM, p.launch(), p);
    run.run();
    double err = Compare.relError(read(h, out, m * n, outFloat), q.expected());
    double us = h.medianUs(run);
    return h.result(outFloat ? "gemm (tensor cores), f32 out" : "gemm (tensor cores)",
        String.format("m=%d n=%d k=%d", m, n, k), err, outFloat ? Compare.F32_ACCUMULATION : Compare.BF16, us,
        q.bytes(outFloat), 2.0 * m * n * k);
  }

  /**
   * Our Hopper GEMM (TMA + wgmma, sm_90 only) with its tensor maps encoded as the dispatch encodes
   * them; after the timed launches the output is poisoned and the product checked again (the
   * persistent CTAs' mbarrier phases carry across tiles and launches start them afresh).
   */
  static CheckResult wgmma(DeviceHarness h, int m, int n, int k, boolean outFloat) {
    Problem q = Problem.random(h, m, n, k);
    DeviceBuffer out = outFloat ? h.poisonedF32((long) m * n) : h.poisonedBf16((long) m * n);
    WgmmaGemms gemms = new WgmmaGemms(h.kernels(), h.stream());
    WgmmaGemmParams p = gemms.params(new GemmShape(m, n, k, n, outFloat), out.address(), h.bf16(q.x()).address(),
        h.bf16(q.w()).address());
    LaunchShape shape = p.launch(h.gpu().smCount());
    Runnable run = () -> h.launch(Kernel.WGMMA_GEMM, shape, p);
    run.run();
    double err = Compare.relError(read(h, out, m * n, outFloat), q.expected());
    double us = h.medianUs(run);
    if (outFloat) out.fill32(DeviceHarness.F32_NAN); else out.fill16(DeviceHarness.BF16_NAN);
    run.run();
    err = Compare.worst(err, Compare.relError(read(h, out, m * n, outFloat), q.expected()));
    return h.result(outFloat ? "gemm (wgmma), f32 out" : "gemm (wgmma)",
        String.format("m=%d n=%d k=%d tiles=%d ctas=%d", m, n, k, WgmmaGemmParams.tiles(m, n), shape.gridX()), err,
        outFloat ? Compare.F32_ACCUMULATION : Compare.BF16, us, q.bytes(outFloat), 2.0 * m * n * k);
  }

  /**
   * Every algorithm cuBLASLt offers the dispatch for (m, n, k) (up to {@link GemmTuner#CUBLASLT_CANDIDATES}),
   * each checked; the row reports the worst error and the first algorithm's time.
   */
  static CheckResult cublasLt(DeviceHarness h, int m, int n, int k, boolean outFloat) {
    Problem q = Problem.random(h, m, n, k);
    DeviceBuffer out = outFloat ? h.poisonedF32((long) m * n) : h.poisonedBf16((long) m * n);
    long xd = h.bf16(q.x()).address();
    long wd = h.bf16(q.w()).address();
    GemmShape shape = new GemmShape(m, n, k, n, outFloat);
    try (CublasLtGemms lt = CublasLtGemms.open(h.context(), h.stream())) {
      int algorithms = Math.min(lt.algorithms(shape), GemmTuner.CUBLASLT_CANDIDATES);
      if (algorithms == 0) {
        throw new IllegalStateException("cuBLASLt offers no algorithm for " + shape);
      }
      double err = 0;
      double us = Double.NaN;
      for (int a = 0; a < algorithms; a++) {
        int algorithm = a;
        Runnable run = () -> lt.launch(shape, algorithm, out.address(), xd, wd);
        run.run();
        err = Compare.worst(err, Compare.relError(read(h, out, m * n, outFloat), q.expected()));
        if (a == 0) us = h.medianUs(run);
        if (outFloat) out.fill32(DeviceHarness.F32_NAN); else out.fill16(DeviceHarness.BF16_NAN);
      }
      return h.result(outFloat ? "cublaslt gemm, f32 out" : "cublaslt gemm",
          String.format("m=%d n=%d k=%d algos=%d", m, n, k, algorithms), err,
          outFloat ? Compare.F32_ACCUMULATION : Compare.BF16, us, q.bytes(outFloat), 2.0 * m * n * k);
    }
  }
}
