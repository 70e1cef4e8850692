package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.gemm.GemmShape;
import io.decodefleet.agent.backend.cuda.gemm.Skinny2Gemms;
import io.decodefleet.agent.backend.cuda.gemm.WgmmaGemms;
import io.decodefleet.kernels.cuda.Bf16;
import io.decodefleet.kernels.cuda.Fp8GemmParams;
import io.decodefleet.kernels.cuda.GemvFp8Params;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.LaunchShape;
import io.decodefleet.kernels.cuda.PagedAttentionFp8Params;
import io.decodefleet.kernels.cuda.Skinny2GemmFp8Params;
import io.decodefleet.kernels.cuda.Skinny2GemmPlan;
import io.decodefleet.kernels.cuda.SkinnyGemmFp8Params;
import io.decodefleet.kernels.cuda.SkinnyGemmPlan;
import io.decodefleet.kernels.cuda.WgmmaGemmFp8Params;
import io.decodefleet.kernels.cuda.WgmmaGemmParams;
import io.decodefleet.kernels.reference.Fp8E4m3;
import io.decodefleet.kernels.reference.Fp8Matmul;
import io.decodefleet.kernels.reference.Matmul;
import io.decodefleet.kernels.reference.PagedAttention;
import io.decodefleet.kernels.reference.RmsNorm;
import io.decodefleet.kernels.reference.SwiGlu;
import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * The FP8 kernels against their CPU references: the FP8-weight GEMM ({@link Fp8Matmul}) with a scale
 * per output row or per tensor, and the paged attention over an FP8 KV cache ({@link
 * PagedAttention#forwardFp8}) on shuffled pages whose unreadable slots hold the NaN code. Both
 * references read exactly the codes the device reads, so only the order of float32 additions (and
 * the bf16 output) differs.
 */
final class Fp8Checks {

  private Fp8Checks() {}

  /** Which e4m3 codes a check's weights hold. */
  enum Codes {
    /** Codes of gaussian values spread over the format's range, as a quantized weight's are. */
    GAUSSIAN,
    /**
     * Subnormal codes and zeros only (exponent field 0, either sign): a widening that flushed
     * subnormals would give zeros, where among gaussian codes they weigh too little to show.
     */
    SUBNORMAL;

    byte[] draw(DeviceHarness h, int count) {
      byte[] c = new byte[count];
      for (int i = 0; i < count; i++) {
        c[i] = this == GAUSSIAN ? Fp8E4m3.encode((float) (h.random().nextGaussian() * 100))
            : (byte) (h.random().nextInt(8) | (h.random().nextBoolean() ? 0x80 : 0));
      }
      return c;
    }

    String label() {
      return this == GAUSSIAN ? "" : " subnormal codes";
    }
  }

  static CheckResult gemm(DeviceHarness h, int m, int n, int k, boolean perChannel, boolean outFloat) {
    Fp8Case c = Fp8Case.draw(h, m, n, k, perChannel, Codes.GAUSSIAN);
    float[] x = c.x();
    byte[] w = c.w();
    float[] scales = c.scales();
    float[] expected = c.expected();
    DeviceBuffer out = outFloat ? h.poisonedF32((long) m * n) : h.poisonedBf16((long) m * n);
    Fp8GemmParams p = new Fp8GemmParams(out.address(), h.bf16(x).address(), h.bytes(w).address(),
        h.f32(scales).address(), m, n, k, n, perChannel ? 1 : 0, outFloat ? 1 : 0);
    Runnable run = () -> h.launch(Kernel.FP8_GEMM, p.launch(), p);
    run.run();
    float[] got = outFloat ? h.readF32(out, m * n) : h.readBf16(out, m * n);
    double err = Compare.relError(got, expected);
    double us = h.medianUs(run);
    double bytes = (double) n * k + 2.0 * m * k + (outFloat ? 4.0 : 2.0) * m * n;
    return h.result(outFloat ? "fp8 gemm, f32 out" : "fp8 gemm", String.format("m=%d n=%d k=%d %s", m, n, k,
        perChannel ? "per-channel" : "per-tensor"), err, outFloat ? Compare.F32_ACCUMULATION : Compare.BF16, us,
        bytes, 2.0 * m * n * k);
  }

  static CheckResult pagedAttention(DeviceHarness h, int qHeads, int kvHeads, int d, int bs, int[] contexts) {
    BackendKernelChecks.Paged in = BackendKernelChecks.pagedInputs(h, qHeads, kvHeads, d, bs, contexts);
    float kScale = 0.25f;
    float vScale = 0.0078125f;
    byte[] k = new byte[in.kCache().length];
    byte[] v = new byte[in.vCache().length];
    Fp8E4m3.encode(in.kCache(), 0, k.length, kScale, k, 0); // NaN in unreadable slots stays the NaN code
    Fp8E4m3.encode(in.vCache(), 0, v.length, vScale, v, 0);
    float[] expected = new float[in.q().length];
    PagedAttention.forwardFp8(in.q(), in.batch(), qHeads, kvHeads, d, k, v, kScale, vScale, bs, in.tables(), contexts,
        (float) (1.0 / Math.sqrt(d)), expected);
    DeviceBuffer out = h.poisonedBf16(expected.length);
    PagedAttentionFp8Params p = new PagedAttentionFp8Params(out.address(), h.bf16(in.q()).address(),
        h.bytes(k).address(), h.bytes(v).address(), h.ints(in.flatTables()).address(), h.ints(contexts).address(),
        h.ints(new int[] {0, 0, in.stride(), 0}).address(), in.batch(), qHeads, kvHeads, d, bs,
        (float) (1.0 / Math.sqrt(d)), kScale, vScale);
    Runnable run = () -> h.launch(Kernel.PAGED_ATTENTION_FP8, p.launch(), p);
    run.run();
    double err = Compare.relError(h.readBf16(out, expected.length), expected);
    double us = h.medianUs(run);
    long positions = Arrays.stream(contexts).asLongStream().sum();
    return h.result("paged attn fp8 kv", String.format("b=%d Hq=%d Hkv=%d D=%d bs=%d", contexts.length, qHeads,
        kvHeads, d, bs), err, Compare.BF16, us, in.kvBytes() / 2.0 + 4.0 * in.q().length, 4.0 * d * qHeads * positions);
  }

  /** Random bf16 x (m, k), e4m3 codes w (n, k) with a scale per row (or one), and their CPU product (m, n). */
  private record Fp8Case(float[] x, byte[] w, float[] scales, float[] expected) {
    static Fp8Case draw(DeviceHarness h, int m, int n, int k, Codes codes) {
      return draw(h, m, n, k, true, codes);
    }

    static Fp8Case draw(DeviceHarness h, int m, int n, int k, boolean perRow, Codes codes) {
      float[] x = h.randomBf16(m * k, 1.0);
      byte[] w = codes.draw(h, n * k);
      float[] scales = new float[perRow ? n : 1];
      for (int j = 0; j < scales.length; j++) scales[j] = (float) (0.5 + h.random().nextDouble()) / 100f;
      float[] expected = new float[m * n];
      Fp8Matmul.matmulTransposed(x, w, scales, m, n, k, expected);
      return new Fp8Case(x, w, scales, expected);
    }
  }

  /**
   * The FP8 skinny GEMM (skinny_gemm_fp8.cu) on the bf16 kernel's plan for the shape, a scale per
   * output row, against {@link Fp8Matmul}; run twice (tile counters must come back to zero).
   */
  static CheckResult skinny(DeviceHarness h, int m, int n, int k, boolean outFloat) {
    return skinny(h, m, n, k, outFloat, Codes.GAUSSIAN);
  }

  static CheckResult skinny(DeviceHarness h, int m, int n, int k, boolean outFloat, Codes codes) {
    return skinny(h, m, n, k, outFloat, codes, false);
  }

  /**
   * The FP8 skinny GEMM on wgmma (skinny_gemm_fp8_wgmma.cu) on the m64 plan the backend makes for the
   * shape, against {@link Fp8Matmul}; the output and the split-K partials poisoned and the product checked
   * again after the timed launches (counters back at zero, no tile summed before its partials).
   */
  static CheckResult skinnyWgmma(DeviceHarness h, int m, int n, int k, boolean outFloat, Codes codes) {
    return skinny(h, m, n, k, outFloat, codes, true);
  }

  /** Either FP8 skinny GEMM on the plan for the shape, launched as the backend launches it. */
  private static CheckResult skinny(DeviceHarness h, int m, int n, int k, boolean outFloat, Codes codes,
      boolean wgmma) {
    Fp8Case c = Fp8Case.draw(h, m, n, k, codes);
    SkinnyGemmPlan plan = SkinnyGemmPlan.plan(m, n, k, h.kernels().slots(SkinnyGemmPlan.kernelFor(m)));
    DeviceBuffer out = outFloat ? h.poisonedF32((long) m * n) : h.poisonedBf16((long) m * n);
    DeviceBuffer workspace = plan.splits() > 1 ? h.poisonedF32(plan.workspaceFloats()) : null;
    long counters = plan.splits() > 1 ? h.zeroedInts(plan.counterCount()).address() : 0;
    SkinnyGemmFp8Params p = SkinnyGemmFp8Params.of(plan, out.address(), h.bf16(c.x()).address(),
        h.bytes(c.w()).address(), h.f32(c.scales()).address(), workspace == null ? 0 : workspace.address(), counters,
        n, outFloat);
    Kernel kernel = wgmma ? Kernel.SKINNY_GEMM_FP8_WGMMA : SkinnyGemmFp8Params.kernelFor(plan);
    LaunchShape shape = wgmma ? SkinnyGemmFp8Params.wgmmaLaunch(plan) : SkinnyGemmFp8Params.launch(plan);
    SkinnyGemmFp8Params launched = wgmma ? p : p.withEarlyWeights(); // as the engine launches each
    Runnable run = () -> h.launch(kernel, shape, launched);
    Checked checked = Checked.run(h, run, out, m * n, outFloat, c.expected(), wgmma ? workspace : null);
    double bytes = (double) n * k + 4.0 * n + 2.0 * m * k + (outFloat ? 4.0 : 2.0) * m * n;
    String name = wgmma ? "skinny gemm fp8 (wgmma)" : "skinny gemm fp8";
    return h.result(outFloat ? name + ", f32 out" : name, String.format(
        "m=%d n=%d k=%d splits=%d%s", m, n, k, plan.splits(), codes.label()), checked.err(),
        outFloat ? Compare.F32_ACCUMULATION : Compare.BF16, checked.us(), bytes, 2.0 * m * n * k);
  }

  /**
   * One GEMM check's error and median time: {@code run} launched once and its {@code count} outputs
   * compared with {@code expected}, timed, then launched again on a poisoned output (and poisoned
   * split-K {@code partials}, where given) and compared again: the worse error counts. A tile summed
   * before all its partials were written, or tile counters not left at zero, shows there.
   */
  record Checked(double err, double us) {
    static Checked run(DeviceHarness h, Runnable run, DeviceBuffer out, int count, boolean outFloat, float[] expected,
        DeviceBuffer partials) {
      run.run();
      double err = Compare.relError(outFloat ? h.readF32(out, count) : h.readBf16(out, count), expected);
      double us = h.medianUs(run);
      if (outFloat) {
        out.fill32(DeviceHarness.F32_NAN);
      } else {
        out.fill16(DeviceHarness.BF16_NAN);
      }
      if (partials != null) partials.fill32(DeviceHarness.F32_NAN);
      run.run();
      err = Compare.worst(err, Compare.relError(outFloat ? h.readF32(out, count) : h.readBf16(out, count), expected));
      return new Checked(err, us);
    }
  }

  /**
   * The FP8 GEMV (gemv_fp8.cu) of one row as the backend launches it (resident codes: each warp's first
   * batch loaded before the wait), against {@link Fp8Matmul}; after the timed launches the output is
   * poisoned and the product checked again.
   */
  static CheckResult gemv(DeviceHarness h, int n, int k, boolean outFloat, Codes codes) {
    return gemv(h, n, k, outFloat, codes, false);
  }

  /**
   * With {@code mma}, on the tensor cores (gemv_fp8_mma.cu) as {@link GemvFp8Params#plan} launches it where the
   * shape fits (the row names the kernel and the warps a task): the product must be the same within the
   * tolerance.
   */
  static CheckResult gemv(DeviceHarness h, int n, int k, boolean outFloat, Codes codes, boolean mma) {
    Fp8Case c = Fp8Case.draw(h, 1, n, k, codes);
    DeviceBuffer out = outFloat ? h.poisonedF32(n) : h.poisonedBf16(n);
    GemvFp8Params p = GemvFp8Params.resident(out.address(), h.bf16(c.x()).address(), h.bytes(c.w()).address(),
        h.f32(c.scales()).address(), n, k, n, outFloat);
    GemvFp8Params.Launch l = gemvLaunch(h, p, mma);
    Runnable run = () -> h.launch(l.kernel(), l.shape(), l.params());
    Checked checked = Checked.run(h, run, out, n, outFloat, c.expected(), null);
    double bytes = (double) n * k + 4.0 * n + 2.0 * k + (outFloat ? 4.0 : 2.0) * n;
    String name = (outFloat ? "gemv fp8, f32 out" : "gemv fp8") + (mma ? ", mma" : "");
    return h.result(name, String.format("m=1 n=%d k=%d %s%s", n, k, gemvGrid(l), codes.label()),
        checked.err(), outFloat ? Compare.F32_ACCUMULATION : Compare.BF16, checked.us(), bytes, 2.0 * n * k);
  }

  /**
   * The FP8 GEMV with what a one-row step runs inside it: the residual add and RMSNorm in front ({@code
   * norm}: the row is {@link RmsNorm#addResidualAndNorm} of a delta and the residual stream, rounded to bf16
   * as the norm kernel writes it; the new residual stream, written by the first CTA to its other place, is
   * checked, and the old one must be unchanged) and SwiGLU behind ({@code swiglu}: n gate_up rows, the
   * products rounded to bf16, then {@link SwiGlu} of each (gate, up) pair, rounded). Against {@link
   * Fp8Matmul}; output and new residual poisoned and checked again after the timed launches.
   */
  static CheckResult gemvFused(DeviceHarness h, int n, int k, boolean norm, boolean swiglu, boolean mma) {
    return gemvFused(h, n, k, norm, swiglu, mma, false);
  }

  /**
   * As {@link #gemvFused(DeviceHarness, int, int, boolean, boolean, boolean)}; with {@code bf16} over bf16
   * weights on the tensor cores (df_gemv_bf16_mma_m1, no row scales) against {@link Matmul}.
   */
  static CheckResult gemvFused(DeviceHarness h, int n, int k, boolean norm, boolean swiglu, boolean mma, boolean bf16) {
    return gemvFused(h, n, k, norm, swiglu, mma, bf16, false);
  }

  /**
   * fp8-dynamic's one-row GEMV (df_gemv_fp8x8_mma_m1): the row (normed where {@code norm}) quantized per token in
   * the CTA and multiplied code by code, against {@link Fp8Matmul} over the row as {@link Fp8E4m3#quantizeRows}
   * leaves it; with the norm in front and SwiGLU behind as {@link #gemvFused} checks them (with the norm in
   * front to 5x bf16's bound: see the bound's comment).
   */
  static CheckResult gemvCodes(DeviceHarness h, int n, int k, boolean norm, boolean swiglu) {
    return gemvFused(h, n, k, norm, swiglu, true, false, true);
  }

  private static CheckResult gemvFused(DeviceHarness h, int n, int k, boolean norm, boolean swiglu, boolean mma,
      boolean bf16, boolean codes) {
    float eps = 1e-5f;
    float[] delta = h.randomBf16(k, 1.0);
    float[] residual = h.randomBf16(k, 1.0);
    float[] weight = h.randomBf16(k, 0.5);
    for (int i = 0; i < k; i++) weight[i] = Bf16.round(1f + weight[i]);
    float[] x = delta;
    float[] newResidual = residual.clone();
    if (norm) {
      x = new float[k];
      RmsNorm.addResidualAndNorm(delta, newResidual, weight, eps, 1, k, x);
      for (int i = 0; i < k; i++) x[i] = Bf16.round(x[i]);
    }
    byte[] w = bf16 ? null : Codes.GAUSSIAN.draw(h, n * k);
    float[] wBf16 = bf16 ? h.randomBf16(n * k, 0.02) : null;
    float[] scales = bf16 ? null : new float[n]; // bf16 weights have none
    for (int j = 0; !bf16 && j < n; j++) scales[j] = (float) (0.5 + h.random().nextDouble()) / 100f;
    float[] expected = new float[n];
    if (bf16) {
      Matmul.matmulTransposed(x, wBf16, 1, n, k, expected);
    } else {
      float[] xq = x.clone();
      if (codes) Fp8E4m3.quantizeRows(xq, 1, k, k);
      Fp8Matmul.matmulTransposed(xq, w, scales, 1, n, k, expected);
    }
    int columns = n;
    if (swiglu) {
      columns = n / 2;
      float[] gate = new float[columns];
      float[] up = new float[columns];
      for (int j = 0; j < columns; j++) {
        gate[j] = Bf16.round(expected[j]);
        up[j] = Bf16.round(expected[columns + j]);
      }
      expected = new float[columns];
      SwiGlu.forward(gate, up, columns, expected);
    }
    DeviceBuffer dRes = h.bf16(residual);
    DeviceBuffer dResOut = h.poisonedBf16(k);
    DeviceBuffer out = h.poisonedBf16(columns);
    long xa = h.bf16(delta).address();
    long wa = bf16 ? h.bf16(wBf16).address() : h.bytes(w).address();
    long sa = bf16 ? 0L : h.f32(scales).address();
    GemvFp8Params p = bf16 ? GemvFp8Params.residentBf16(out.address(), xa, wa, n, k, columns, false, swiglu)
        : swiglu ? GemvFp8Params.swigluOut(out.address(), xa, wa, sa, n, k, columns)
        : GemvFp8Params.resident(out.address(), xa, wa, sa, n, k, columns, false);
    if (codes) p = p.withXCodes();
    if (norm) p = p.withNorm(dRes.address(), dResOut.address(), h.bf16(weight).address(), eps);
    GemvFp8Params.Launch l = gemvLaunch(h, p, mma);
    Runnable run = () -> h.launch(l.kernel(), l.shape(), l.params());
    Checked checked = Checked.run(h, run, out, columns, false, expected, null);
    double err = checked.err();
    if (norm) {
      err = Compare.worst(err, Compare.relError(h.readBf16(dRes, k), residual));
      dResOut.fill16(DeviceHarness.BF16_NAN);
      run.run();
      err = Compare.worst(err, Compare.relError(h.readBf16(dResOut, k), newResidual));
    }
    double bytes = (double) n * k * (bf16 ? 2 : 1) + (bf16 ? 0 : 4.0 * n) + (norm ? 8.0 : 2.0) * k + 2.0 * columns;
    String name = (bf16 ? "gemv bf16, " : codes ? "gemv fp8 x fp8 (dynamic), " : "gemv fp8, ")
        + (norm && swiglu ? "norm + swiglu" : norm ? "norm in front" : swiglu ? "swiglu behind" : "plain")
        + (mma || bf16 ? ", mma" : "");
    // With the norm in front the x-codes kernel quantizes its own normed row, which may differ from the CPU's by
    // a bf16 step (rsqrtf): the codes then differ where a value sits near a midpoint, moving the product 1-2e-2
    // (an H100, 2026-12-07) where a wrong scale or layout moves it by order 1. Plain rows are held to bf16's bound.
    double bound = codes && norm ? 5 * Compare.BF16 : Compare.BF16;
    return h.result(name, String.format("m=1 n=%d k=%d %s", n, k, gemvGrid(l)), err, bound,
        checked.us(), bytes, 2.0 * n * k);
  }

  /** The GEMV's launch as the backend plans it (on the tensor cores where {@code mma} and the shape fits). */
  static GemvFp8Params.Launch gemvLaunch(DeviceHarness h, GemvFp8Params p, boolean mma) {
    return p.plan(mma, h.kernels()::slots, h.gpu().smCount());
  }

  /** "ctas=N", with the warps a task on the tensor cores. */
  static String gemvGrid(GemvFp8Params.Launch l) {
    int warps = l.params().taskWarps();
    return "ctas=" + l.shape().gridX() + (warps > 0 ? " warps/task=" + warps : "");
  }

  /**
   * The FP8 second skinny GEMM as the backend's FP8 projections launch it (past 64 rows one launch per
   * 64 rows, sharing the split-K scratch), the codes' UINT8
   * tensor map encoded as they encode it; after the timed launches the output and the split-K
   * partials are poisoned and the product checked again (counters left at zero, no tile summed
   * before all its partials were written).
   */
  static CheckResult skinny2(DeviceHarness h, int m, int n, int k, boolean outFloat) {
    return skinny2(h, m, n, k, outFloat, Codes.GAUSSIAN);
  }

  static CheckResult skinny2(DeviceHarness h, int m, int n, int k, boolean outFloat, Codes codes) {
    Fp8Case c = Fp8Case.draw(h, m, n, k, codes);
    float[] x = c.x();
    byte[] w = c.w();
    float[] scales = c.scales();
    float[] expected = c.expected();
    IntFunction<Skinny2GemmPlan> planFor = rows -> Skinny2GemmFp8Params.plan(rows, n, k,
        h.kernels().slots(Skinny2GemmFp8Params.kernelFor(rows)));
    // Past 64 rows one launch per 64 rows, sharing the split-K scratch, as the backend's projections run.
    int launches = (m + Skinny2GemmFp8Params.MAX_M - 1) / Skinny2GemmFp8Params.MAX_M;
    Skinny2GemmPlan plan = planFor.apply(Math.min(m, Skinny2GemmFp8Params.MAX_M));
    long workspaceFloats = 0;
    int counterCount = 0;
    for (int r0 = 0; r0 < m; r0 += Skinny2GemmFp8Params.MAX_M) {
      Skinny2GemmPlan slice = planFor.apply(Math.min(Skinny2GemmFp8Params.MAX_M, m - r0));
      workspaceFloats = Math.max(workspaceFloats, slice.workspaceFloats());
      counterCount = Math.max(counterCount, slice.counterCount());
    }
    DeviceBuffer out = outFloat ? h.poisonedF32((long) m * n) : h.poisonedBf16((long) m * n);
    DeviceBuffer workspace = workspaceFloats > 0 ? h.poisonedF32(workspaceFloats) : null;
    long counters = counterCount > 0 ? h.zeroedInts(counterCount).address() : 0;
    Skinny2Gemms gemms = new Skinny2Gemms(h.kernels(), h.stream());
    long xa = h.bf16(x).address();
    long wa = h.bytes(w).address();
    long sa = h.f32(scales).address();
    long wsa = workspace == null ? 0 : workspace.address();
    Runnable run = () -> gemms.launchFp8Rows(planFor, out.address(), xa, wa, sa, wsa, counters, m, k, n, outFloat);
    Checked checked = Checked.run(h, run, out, m * n, outFloat, expected, workspace);
    double err = checked.err();
    double us = checked.us();
    double bytes = (double) n * k + 4.0 * n + 2.0 * m * k + (outFloat ? 4.0 : 2.0) * m * n;
    return h.result(outFloat ? "skinny2 gemm fp8, f32 out" : "skinny2 gemm fp8", String.format(
        "m=%d n=%d k=%d splits=%d ctas=%d launches=%d%s", m, n, k, plan.splits(), plan.ctas(), launches,
        codes.label()), err,
        outFloat ? Compare.F32_ACCUMULATION : Compare.BF16, us, bytes, 2.0 * m * n * k);
  }

  /**
   * Our Hopper GEMM over FP8 weights (wgmma_gemm_fp8.cu, sm_90 only) with its tensor maps encoded as
   * the dispatch encodes them, against {@link Fp8Matmul}; after the timed launches the output is
   * poisoned and the product checked again (the ring's and the widened tiles' phases carry across
   * tiles, and launches start them afresh).
   */
  static CheckResult wgmma(DeviceHarness h, int m, int n, int k, boolean perRow, boolean outFloat) {
    return wgmma(h, m, n, k, perRow, outFloat, Codes.GAUSSIAN);
  }

  static CheckResult wgmma(DeviceHarness h, int m, int n, int k, boolean perRow, boolean outFloat, Codes codes) {
    Fp8Case c = Fp8Case.draw(h, m, n, k, perRow, codes);
    float[] x = c.x();
    byte[] w = c.w();
    float[] scales = c.scales();
    float[] expected = c.expected();
    DeviceBuffer out = outFloat ? h.poisonedF32((long) m * n) : h.poisonedBf16((long) m * n);
    WgmmaGemms gemms = new WgmmaGemms(h.kernels(), h.stream());
    WgmmaGemmFp8Params p = gemms.paramsFp8(new GemmShape(m, n, k, n, outFloat), out.address(), h.bf16(x).address(),
        h.bytes(w).address(), h.f32(scales).address(), perRow);
    var shape = p.launch(h.gpu().smCount());
    Runnable run = () -> h.launch(Kernel.WGMMA_GEMM_FP8, shape, p);
    Checked checked = Checked.run(h, run, out, m * n, outFloat, expected, null);
    double err = checked.err();
    double us = checked.us();
    double bytes = (double) n * k + 2.0 * m * k + (outFloat ? 4.0 : 2.0) * m * n;
    return h.result(outFloat ? "gemm fp8 (wgmma), f32 out" : "gemm fp8 (wgmma)", String.format(
        "m=%d n=%d k=%d %s tiles=%d ctas=%d%s", m, n, k, perRow ? "per-channel" : "per-tensor",
        WgmmaGemmParams.tiles(m, n), shape.gridX(), codes.label()), err,
        outFloat ? Compare.F32_ACCUMULATION : Compare.BF16, us, bytes, 2.0 * m * n * k);
  }
}
