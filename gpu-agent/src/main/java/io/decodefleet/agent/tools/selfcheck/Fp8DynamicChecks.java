package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.gemm.CublasLtGemms;
import io.decodefleet.agent.backend.cuda.gemm.GemmShape;
import io.decodefleet.agent.backend.cuda.gemm.Skinny2Gemms;
import io.decodefleet.kernels.cuda.Fp8QuantizeRowsParams;
import io.decodefleet.kernels.cuda.Bf16;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.RmsNormParams;
import io.decodefleet.kernels.cuda.Skinny2GemmFp8Params;
import io.decodefleet.kernels.cuda.Skinny2GemmPlan;
import io.decodefleet.kernels.reference.Fp8E4m3;
import io.decodefleet.kernels.reference.Fp8Matmul;
import io.decodefleet.kernels.reference.RmsNorm;
import java.util.Arrays;

/**
 * fp8-dynamic's projection of many rows on a GPU: the rows quantized per token, then cuBLASLt's FP8 x FP8 GEMM
 * ({@link #dynamic}) or, up to 64 rows, ours:skinny2-fp8x8 ({@link #codes}).
 */
final class Fp8DynamicChecks {

  private Fp8DynamicChecks() {}

  /**
   * One fp8-dynamic projection's inputs and reference: x (m, k) bf16 (row 1 all zeros where m > 2, whose scale must
   * be 1), Gaussian weight codes with row scales, and {@link Fp8Matmul} on x's rows as {@link Fp8E4m3#quantizeRows}
   * quantizes them.
   */
  private record Case(float[] x, byte[] w, float[] wScales, float[] expected) {
    static Case draw(DeviceHarness h, int m, int n, int k) {
      float[] x = h.randomBf16(m * k, 1.0);
      byte[] w = Fp8Checks.Codes.GAUSSIAN.draw(h, n * k);
      float[] wScales = new float[n];
      for (int j = 0; j < n; j++) wScales[j] = (float) (0.5 + h.random().nextDouble()) / 100f;
      if (m > 2) Arrays.fill(x, k, 2 * k, 0f);
      float[] xq = x.clone();
      Fp8E4m3.quantizeRows(xq, m, k, k);
      float[] expected = new float[m * n];
      Fp8Matmul.matmulTransposed(xq, w, wScales, m, n, k, expected);
      return new Case(x, w, wScales, expected);
    }
  }

  /**
   * SKINNY2_GEMM_FP8X8's rows, on the variant the backend runs here (wgmma on sm_90a, else mma.sync): each tile (m
   * 1, 2, 8; 13, 16; 17, 32; 40, 64), the four Llama-3-8B projections at 64 rows, edges (n not a multiple of 64, k
   * of 256 or of 128, k below one box: 528 and 80; 40 rows split over k), float32 out, qkv's 64 rows unsplit and in
   * two slices (as fp8-dynamic's load may time and choose them); then four rows pinned to the mma.sync variant (where
   * wgmma is the backend's, they keep the other one checked).
   */
  static final KernelFamily.Check[] CODES = {
    h -> codes(h, 1, 4096, 4096, true, false),
    h -> codes(h, 2, 6144, 4096, false, false),
    h -> codes(h, 8, 4096, 4096, false, false),
    h -> codes(h, 16, 28672, 4096, false, false),
    h -> codes(h, 13, 1000, 528, false, false),
    h -> codes(h, 32, 4096, 14336, false, false),
    h -> codes(h, 17, 130, 80, false, false),
    h -> codes(h, 64, 6144, 4096, false, false),
    h -> codes(h, 64, 4096, 4096, false, false),
    h -> codes(h, 64, 28672, 4096, false, false),
    h -> codes(h, 64, 4096, 14336, false, false),
    h -> codes(h, 40, 4096, 4096, false, false),
    h -> codes(h, 64, 4096, 4096, true, false),
    h -> codes(h, 64, 6144, 4096, false, false, 1),
    h -> codes(h, 64, 6144, 4096, false, false, 2),
    h -> codes(h, 8, 4096, 4096, false, true),
    h -> codes(h, 13, 1000, 528, false, true),
    h -> codes(h, 40, 4096, 4096, false, true),
    h -> codes(h, 64, 28672, 4096, false, true)
  };

  /**
   * An fp8-dynamic projection of up to 64 rows on ours:skinny2-fp8x8 as the backend runs it (Fp8Activations): x's
   * rows quantized on the device (row 1 all zeros where m > 2), then the codes-by-codes skinny GEMM with the rows'
   * scales and the weight rows' scales, against {@link Fp8Matmul} on the CPU-quantized rows; after the timed
   * launches the output and the split-K partials are poisoned and the product checked again. Both outputs are
   * held to bf16's bound (Hopper's FP8 MMAs do not keep a float32 sum exactly). {@code mma}: the mma.sync variant,
   * whatever the backend runs here.
   */
  static CheckResult codes(DeviceHarness h, int m, int n, int k, boolean outFloat, boolean mma) {
    return codes(h, m, n, k, outFloat, mma, 0);
  }

  /** As {@link #codes(DeviceHarness, int, int, int, boolean, boolean)}, k cut into {@code splits} slices (0: planned). */
  static CheckResult codes(DeviceHarness h, int m, int n, int k, boolean outFloat, boolean mma, int splits) {
    Case c = Case.draw(h, m, n, k);
    long x = h.bf16(c.x()).address();
    long codes = h.track(h.context().allocate((long) m * k)).address();
    long xScales = h.poisonedF32(m).address();
    long w = h.bytes(c.w()).address();
    long wScales = h.f32(c.wScales()).address();
    Skinny2Gemms gemms = new Skinny2Gemms(h.kernels(), h.stream());
    boolean wgmma = gemms.codesOnWgmma() && !mma;
    Skinny2GemmPlan plan = Skinny2GemmFp8Params.planCodes(m, n, k,
        h.kernels().slots(Skinny2GemmFp8Params.kernelForCodes(m, wgmma)), splits);
    DeviceBuffer workspace = plan.workspaceFloats() > 0 ? h.poisonedF32(plan.workspaceFloats()) : null;
    long counters = plan.counterCount() > 0 ? h.zeroedInts(plan.counterCount()).address() : 0;
    DeviceBuffer out = outFloat ? h.poisonedF32((long) m * n) : h.poisonedBf16((long) m * n);
    Fp8QuantizeRowsParams q = new Fp8QuantizeRowsParams(codes, xScales, x, m, k, k);
    Runnable run = () -> {
      h.launch(Kernel.FP8_QUANTIZE_ROWS, q.launch(), q);
      gemms.launchCodes(wgmma, plan, out.address(), codes, xScales, w, wScales,
          workspace == null ? 0 : workspace.address(), counters, n, outFloat);
    };
    Fp8Checks.Checked checked = Fp8Checks.Checked.run(h, run, out, m * n, outFloat, c.expected(), workspace);
    double bytes = (double) n * k + 4.0 * n + 3.0 * m * k + (outFloat ? 4.0 : 2.0) * m * n;
    String name = "skinny2 gemm fp8x8" + (wgmma ? " wgmma" : mma ? " mma.sync" : "");
    return h.result(outFloat ? name + ", f32 out" : name, String.format(
        "m=%d n=%d k=%d tile=%d splits=%d ctas=%d", m, n, k, plan.mTile(), plan.splits(), plan.ctas()), checked.err(),
        Compare.BF16, checked.us(), bytes, 2.0 * m * n * k);
  }

  /**
   * An fp8-dynamic projection as the backend runs it (Fp8Activations): x's rows quantized on the device
   * (df_fp8_quantize_rows; row 1 all zeros where m > 2, whose scale must be 1), every code and scale equal to
   * {@link Fp8E4m3#quantizeRows}'s, then cuBLASLt's FP8 x FP8 GEMM with a scale per row of each operand against
   * {@link Fp8Matmul} on the CPU-quantized rows. A mismatched code or scale fails the row.
   */
  static CheckResult dynamic(DeviceHarness h, int m, int n, int k, boolean outFloat) {
    Case c = Case.draw(h, m, n, k);
    float[] x0 = c.x();
    float[] expected = c.expected();
    DeviceBuffer x = h.bf16(x0);
    DeviceBuffer codes = h.track(h.context().allocate((long) m * k));
    DeviceBuffer xScales = h.poisonedF32(m);
    DeviceBuffer out = outFloat ? h.poisonedF32((long) m * n) : h.poisonedBf16((long) m * n);
    Fp8QuantizeRowsParams q = new Fp8QuantizeRowsParams(codes.address(), xScales.address(), x.address(), m, k, k);
    GemmShape shape = new GemmShape(m, n, k, n, outFloat);
    long w = h.bytes(c.w()).address();
    long wScales = h.f32(c.wScales()).address();
    try (CublasLtGemms lt = CublasLtGemms.open(h.context(), h.stream())) {
      Runnable run = () -> {
        h.launch(Kernel.FP8_QUANTIZE_ROWS, q.launch(), q);
        lt.launchFp8(shape, 0, out.address(), codes.address(), xScales.address(), w, wScales);
      };
      run.run();
      int mismatched = mismatches(x0, Fp8CacheChecks.readBytes(h, codes, m * k), h.readF32(xScales, m), m, k);
      double err = Compare.relError(outFloat ? h.readF32(out, m * n) : h.readBf16(out, m * n), expected);
      double us = h.medianUs(run);
      double bytes = (double) n * k + 4.0 * n + 3.0 * m * k + (outFloat ? 4.0 : 2.0) * m * n;
      return h.result(outFloat ? "fp8 x fp8 gemm (dynamic), f32 out" : "fp8 x fp8 gemm (dynamic)",
          String.format("m=%d n=%d k=%d, %d codes or scales off the CPU's", m, n, k, mismatched),
          // bf16's bound for both outputs: Hopper's FP8 MMAs do not keep a float32 sum exactly (1.3e-4 at k 14336)
          mismatched == 0 ? err : Math.max(err, 1.0), Compare.BF16, us, bytes,
          2.0 * m * n * k);
    }
  }

  /**
   * fp8-dynamic's norm in front of qkv and gate_up: the residual add and RMSNorm writing, beside its bf16 rows, each
   * row's e4m3 codes and scale (RmsNormParams#withCodes). The bf16 rows against {@link RmsNorm} (bf16's bound), and
   * every code and scale equal to {@link Fp8E4m3#quantizeRows} of the rows the kernel wrote (a mismatch fails the
   * row); row 1 is the zero row (residual and x cancel) whose scale must be 1.
   */
  static CheckResult normCodes(DeviceHarness h, int rows, int hidden) {
    float eps = 1e-5f;
    float[] x = h.randomBf16(rows * hidden, 1.0);
    float[] residual = h.randomBf16(rows * hidden, 1.0);
    if (rows > 2) {
      for (int i = hidden; i < 2 * hidden; i++) residual[i] = -x[i];
    }
    float[] weight = h.randomBf16(hidden, 0.5);
    for (int i = 0; i < hidden; i++) weight[i] = Bf16.round(1f + weight[i]);
    float[] expected = new float[rows * hidden];
    RmsNorm.addResidualAndNorm(x, residual.clone(), weight, eps, rows, hidden, expected);
    DeviceBuffer out = h.poisonedBf16((long) rows * hidden);
    DeviceBuffer dRes = h.bf16(residual);
    DeviceBuffer codes = h.track(h.context().allocate((long) rows * hidden));
    DeviceBuffer scales = h.poisonedF32(rows);
    RmsNormParams p = new RmsNormParams(out.address(), dRes.address(), h.bf16(x).address(), h.bf16(weight).address(),
        rows, hidden, eps).withCodes(codes.address(), scales.address());
    h.launch(Kernel.RMSNORM, p.launch(), p);
    float[] got = h.readBf16(out, rows * hidden);
    double err = Compare.relError(got, expected);
    int mismatched = mismatches(got, Fp8CacheChecks.readBytes(h, codes, rows * hidden), h.readF32(scales, rows),
        rows, hidden);
    double us = h.medianUs(() -> h.launch(Kernel.RMSNORM, p.launch(), p));
    return h.result("rmsnorm+residual, fp8 codes", String.format("rows=%d hidden=%d, %d codes or scales off the"
        + " CPU's", rows, hidden, mismatched), mismatched == 0 ? err : Math.max(err, 1.0), Compare.BF16, us,
        2.0 * rows * hidden * 4 + 2.0 * hidden + rows * (hidden + 4.0), 4.0 * rows * hidden);
  }

  /** How many of the device's codes and scales of x's rows (m, k) differ from {@link Fp8E4m3#quantizeRows}'s. */
  static int mismatches(float[] x, byte[] codes, float[] scales, int m, int k) {
    int mismatched = 0;
    for (int r = 0; r < m; r++) {
      float amax = 0f;
      for (int i = r * k; i < (r + 1) * k; i++) amax = Math.max(amax, Math.abs(x[i]));
      float scale = Fp8E4m3.rowScale(amax);
      if (scale != scales[r]) mismatched++;
      for (int i = r * k; i < (r + 1) * k; i++) {
        if (Fp8E4m3.encode(x[i] / scale) != codes[i]) mismatched++;
      }
    }
    return mismatched;
  }
}
