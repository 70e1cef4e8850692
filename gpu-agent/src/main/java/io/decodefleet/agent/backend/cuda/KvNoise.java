package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.kernels.cuda.DummyWeightsFp8Params;
import io.decodefleet.kernels.cuda.DummyWeightsParams;
import io.decodefleet.kernels.cuda.Kernel;

/**
 * Noise for an FP8 KV pool that benchmarks read: the FP8 dummy-weight passes over the pool's
 * bytes as one tensor of uniform values in [-1, 1) (amax, then codes with scale amax / 448). bf16
 * noise reinterpreted as codes would hold the NaN codes 0x7f and 0xff.
 */
final class KvNoise {

  private KvNoise() {}

  static void fillFp8(CudaContext ctx, KernelModule kernels, CudaStream stream, DeviceBuffer pool, int seed) {
    try (DeviceBuffer amax = ctx.allocate(4)) {
      amax.fill32(0);
      long bytes = pool.bytes();
      for (Kernel k : new Kernel[] {Kernel.DUMMY_WEIGHTS_AMAX, Kernel.DUMMY_WEIGHTS_FP8}) {
        for (long first = 0; first < bytes; first += DummyWeightsParams.MAX_N) {
          int n = (int) Math.min(DummyWeightsParams.MAX_N, bytes - first);
          DummyWeightsFp8Params p = DummyWeightsFp8Params.of(DummyWeightsParams.of(pool.address(first), n, seed,
              0x4b56L, first, 1f, 0f), amax.address(0), amax.address(0), 0);
          kernels.launch(k, p.launch(), p, stream);
        }
      }
      stream.synchronize("filling the FP8 KV pool with noise");
    }
  }
}
