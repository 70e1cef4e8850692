package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.EventTimer;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.gemm.CublasLtGemms;
import io.decodefleet.agent.backend.cuda.gemm.GemmShape;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.cublas.CublasLt;
import io.decodefleet.kernels.cuda.FillParams;
import io.decodefleet.kernels.cuda.Fp8QuantizeRowsParams;
import io.decodefleet.kernels.cuda.GemmParams;
import io.decodefleet.kernels.cuda.Kernel;

/**
 * The bf16 matrix rate the prefill floor is measured against: the device's best measured rate on
 * one (m, k) x (n, k)ᵀ problem of uniform noise (never zeros) — the faster of our tensor-core GEMM
 * and cuBLASLt's candidate algorithms where cuBLASLt is present — as the median of event-timed
 * repetitions after a warm-up. A floor from our own GEMM's rate alone would flatter our prefill.
 */
public final class GemmRate {

  /** The best rate measured, and what reached it ("ours:tensor-core" or "cublaslt#i"). */
  public record Rate(double micros, double flopsPerUs, String by) {}

  private GemmRate() {}

  /**
   * As {@link #measure(CudaContext, KernelModule, CudaStream, int, int, int)}; with {@code fp8} (an fp8-dynamic
   * model, whose projections are FP8 x FP8) the best of cuBLASLt's FP8 algorithms with a scale per row of each
   * operand, as the model runs them, on noise quantized per row ("cublaslt-fp8#i").
   */
  public static Rate measure(CudaContext ctx, KernelModule kernels, CudaStream stream, int m, int n, int k,
      boolean fp8) {
    if (!fp8) return measure(ctx, kernels, stream, m, n, k);
    double flops = 2.0 * m * n * k;
    GemmShape shape = new GemmShape(m, n, k, n, false);
    try (DeviceBuffer x = noise(ctx, kernels, stream, (long) m * k, 11);
        DeviceBuffer w = noise(ctx, kernels, stream, (long) n * k, 12);
        DeviceBuffer codes = ctx.allocate((long) (m + n) * k + 4L * (m + n));
        DeviceBuffer out = ctx.allocate(2L * m * n);
        CublasLtGemms lt = CublasLtGemms.open(ctx, stream)) {
      long xCodes = codes.address();
      long wCodes = codes.address((long) m * k);
      long xScales = codes.address((long) (m + n) * k);
      long wScales = codes.address((long) (m + n) * k + 4L * m);
      Fp8QuantizeRowsParams qx = new Fp8QuantizeRowsParams(xCodes, xScales, x.address(), m, k, k);
      Fp8QuantizeRowsParams qw = new Fp8QuantizeRowsParams(wCodes, wScales, w.address(), n, k, k);
      kernels.launch(Kernel.FP8_QUANTIZE_ROWS, qx.launch(), qx, stream);
      kernels.launch(Kernel.FP8_QUANTIZE_ROWS, qw.launch(), qw, stream);
      Rate best = new Rate(Double.POSITIVE_INFINITY, 0, "none");
      for (int a = 0; a < Math.min(lt.fp8Algorithms(shape), GemmTuner.CUBLASLT_CANDIDATES); a++) {
        int algorithm = a;
        double t = EventTimer.median(EventTimer.timeUs(stream, 3, 10,
            () -> lt.launchFp8(shape, algorithm, out.address(), xCodes, xScales, wCodes, wScales)));
        if (t < best.micros()) best = new Rate(t, flops / t, "cublaslt-fp8#" + a);
      }
      if (best.flopsPerUs() == 0) throw new IllegalStateException("cuBLASLt has no FP8 algorithm for " + shape);
      return best;
    }
  }

  /** "FP8 x FP8" where {@code by} names an FP8 algorithm {@link #measure} took ("cublaslt-fp8#i"), else "bf16". */
  public static String kind(String by) {
    return by != null && by.contains("cublaslt-fp8") ? "FP8 x FP8" : "bf16";
  }

  public static Rate measure(CudaContext ctx, KernelModule kernels, CudaStream stream, int m, int n, int k) {
    double flops = 2.0 * m * n * k;
    try (DeviceBuffer x = noise(ctx, kernels, stream, (long) m * k, 11);
        DeviceBuffer w = noise(ctx, kernels, stream, (long) n * k, 12);
        DeviceBuffer out = ctx.allocate(2L * m * n)) {
      GemmParams p = new GemmParams(out.address(), x.address(), w.address(), m, n, k, n);
      double us = EventTimer.median(EventTimer.timeUs(stream, 3, 10,
          () -> kernels.launch(Kernel.GEMM, p.launch(), p, stream)));
      Rate best = new Rate(us, flops / us, "ours:tensor-core");
      if (CublasLt.isAvailable()) {
        GemmShape shape = new GemmShape(m, n, k, n, false);
        try (CublasLtGemms lt = CublasLtGemms.open(ctx, stream)) {
          for (int a = 0; a < Math.min(lt.algorithms(shape), GemmTuner.CUBLASLT_CANDIDATES); a++) {
            int algorithm = a;
            double t = EventTimer.median(EventTimer.timeUs(stream, 3, 10,
                () -> lt.launch(shape, algorithm, out.address(), x.address(), w.address())));
            if (t < best.micros()) best = new Rate(t, flops / t, "cublaslt#" + a);
          }
        }
      }
      return best;
    }
  }

  private static DeviceBuffer noise(CudaContext ctx, KernelModule kernels, CudaStream stream, long elems, int seed) {
    if (elems > FillParams.MAX_N) {
      throw new IllegalArgumentException("GEMM operand of " + elems + " elements is larger than one fill");
    }
    DeviceBuffer b = ctx.allocate(2 * elems);
    FillParams p = new FillParams(b.address(), (int) elems, seed, 1f);
    kernels.launch(Kernel.FILL_UNIFORM, p.launch(), p, stream);
    stream.synchronize("filling a GEMM operand");
    return b;
  }
}
