package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.EventTimer;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.kernels.cuda.FillParams;
import io.decodefleet.kernels.cuda.GemmParams;
import io.decodefleet.kernels.cuda.Kernel;

/**
 * The bf16 matrix rate the prefill floor is measured against: the tensor-core GEMM of the kernels
 * module on one (m, k) x (n, k)ᵀ problem of uniform noise (never zeros), median of event-timed
 * repetitions after a warm-up.
 */
final class GemmRate {

  private GemmRate() {}

  /** {median µs, FLOP per µs}. */
  static double[] measure(CudaContext ctx, KernelModule kernels, CudaStream stream, int m, int n, int k) {
    try (DeviceBuffer x = noise(ctx, kernels, stream, (long) m * k, 11);
        DeviceBuffer w = noise(ctx, kernels, stream, (long) n * k, 12);
        DeviceBuffer out = ctx.allocate(2L * m * n)) {
      GemmParams p = new GemmParams(out.address(), x.address(), w.address(), m, n, k, n);
      double us = EventTimer.median(EventTimer.timeUs(stream, 3, 10,
          () -> kernels.launch(Kernel.GEMM, p.launch(), p, stream)));
      return new double[] {us, 2.0 * m * n * k / us};
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
