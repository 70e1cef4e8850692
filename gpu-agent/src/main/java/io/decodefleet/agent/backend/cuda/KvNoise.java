package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.kv.KvPool;
import io.decodefleet.kernels.cuda.DummyWeightsFp8Params;
import io.decodefleet.kernels.cuda.DummyWeightsParams;
import io.decodefleet.kernels.cuda.FillParams;
import io.decodefleet.kernels.cuda.Kernel;

/**
 * Noise for a KV pool that benchmarks read (they must not read zeros): uniform values in [-1, 1).
 * A bf16 pool is filled directly; an FP8 pool through the FP8 dummy-weight passes over its bytes as
 * one tensor (amax, then codes with scale amax / 448), since bf16 noise reinterpreted as codes would
 * hold the NaN codes 0x7f and 0xff.
 */
public final class KvNoise {

  private KvNoise() {}

  /** Fills the whole pool, bf16 or FP8 codes. */
  public static void fill(CudaContext ctx, KernelModule kernels, CudaStream stream, KvPool kv, int seed) {
    if (kv.fp8()) {
      fillFp8(ctx, kernels, stream, kv.buffer(), seed);
      return;
    }
    long elems = kv.bytes() / 2;
    for (long first = 0; first < elems; first += FillParams.MAX_N) {
      int n = (int) Math.min(FillParams.MAX_N, elems - first);
      FillParams p = new FillParams(kv.buffer().address(2 * first), n, seed + (int) (first / FillParams.MAX_N), 1f);
      kernels.launch(Kernel.FILL_UNIFORM, p.launch(), p, stream);
    }
    stream.synchronize("filling the KV pool with noise");
  }

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
