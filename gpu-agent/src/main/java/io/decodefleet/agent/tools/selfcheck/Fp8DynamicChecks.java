package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.gemm.CublasLtGemms;
import io.decodefleet.agent.backend.cuda.gemm.GemmShape;
import io.decodefleet.kernels.cuda.Fp8QuantizeRowsParams;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.reference.Fp8E4m3;
import io.decodefleet.kernels.reference.Fp8Matmul;
import java.util.Arrays;

/** fp8-dynamic's projection of many rows on a GPU: the rows quantized per token, then cuBLASLt's FP8 x FP8 GEMM. */
final class Fp8DynamicChecks {

  private Fp8DynamicChecks() {}

  /**
   * An fp8-dynamic projection as the backend runs it (Fp8Activations): x's rows quantized on the device
   * (df_fp8_quantize_rows; row 1 all zeros where m > 2, whose scale must be 1), every code and scale equal to
   * {@link Fp8E4m3#quantizeRows}'s, then cuBLASLt's FP8 x FP8 GEMM with a scale per row of each operand against
   * {@link Fp8Matmul} on the CPU-quantized rows. A mismatched code or scale fails the row.
   */
  static CheckResult dynamic(DeviceHarness h, int m, int n, int k, boolean outFloat) {
    float[] x0 = h.randomBf16(m * k, 1.0);
    byte[] wCodes = Fp8Checks.Codes.GAUSSIAN.draw(h, n * k);
    float[] wRowScales = new float[n];
    for (int j = 0; j < n; j++) wRowScales[j] = (float) (0.5 + h.random().nextDouble()) / 100f;
    if (m > 2) Arrays.fill(x0, k, 2 * k, 0f);
    DeviceBuffer x = h.bf16(x0);
    float[] xq = x0.clone();
    Fp8E4m3.quantizeRows(xq, m, k, k);
    float[] expected = new float[m * n];
    Fp8Matmul.matmulTransposed(xq, wCodes, wRowScales, m, n, k, expected);
    DeviceBuffer codes = h.track(h.context().allocate((long) m * k));
    DeviceBuffer xScales = h.poisonedF32(m);
    DeviceBuffer out = outFloat ? h.poisonedF32((long) m * n) : h.poisonedBf16((long) m * n);
    Fp8QuantizeRowsParams q = new Fp8QuantizeRowsParams(codes.address(), xScales.address(), x.address(), m, k, k);
    GemmShape shape = new GemmShape(m, n, k, n, outFloat);
    long w = h.bytes(wCodes).address();
    long wScales = h.f32(wRowScales).address();
    try (CublasLtGemms lt = CublasLtGemms.open(h.context(), h.stream())) {
      Runnable run = () -> {
        h.launch(Kernel.FP8_QUANTIZE_ROWS, q.launch(), q);
        lt.launchFp8(shape, 0, out.address(), codes.address(), xScales.address(), w, wScales);
      };
      run.run();
      byte[] gotCodes = Fp8CacheChecks.readBytes(h, codes, m * k);
      float[] gotScales = h.readF32(xScales, m);
      int mismatched = 0;
      for (int r = 0; r < m; r++) {
        float amax = 0f;
        for (int i = r * k; i < (r + 1) * k; i++) amax = Math.max(amax, Math.abs(x0[i]));
        float scale = Fp8E4m3.rowScale(amax);
        if (scale != gotScales[r]) mismatched++;
        for (int i = r * k; i < (r + 1) * k; i++) {
          if (Fp8E4m3.encode(x0[i] / scale) != gotCodes[i]) mismatched++;
        }
      }
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
}
