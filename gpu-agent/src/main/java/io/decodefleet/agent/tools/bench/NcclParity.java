package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.nccl.Nccl.DataType;
import io.decodefleet.agent.nccl.Nccl;

/**
 * The bench's check of values before it times anything: a sum all-reduce in bf16 and in fp32 over
 * every rank, and a send/recv from rank 0 to rank 1, on small integers (exact in bf16, sums too),
 * into NaN-poisoned outputs. Every rank calls {@link #check} in step.
 */
final class NcclParity {

  /** Odd, so no size is a multiple of a vector width or a chunk. */
  static final int N = 4099;

  private NcclParity() {}

  /** Value of element {@code i} on rank {@code rank}: small integers. */
  static float value(int rank, int i) {
    return (rank + 1) * (i % 7 + 1);
  }

  /** Throws, naming the operation, rank, element and values, at the first wrong element. */
  static void check(CudaContext ctx, long stream, long comm, int rank, int ranks) {
    float[] x = new float[N];
    short[] xb = new short[N];
    for (int i = 0; i < N; i++) {
      x[i] = value(rank, i);
      xb[i] = (short) (Float.floatToIntBits(x[i]) >>> 16); // exact: x has at most 8 bits
    }
    try (DeviceBuffer f = ctx.allocate(4L * N); // (N) fp32 in
        DeviceBuffer sum = ctx.allocate(4L * N); // (N) fp32 out
        DeviceBuffer b = ctx.allocate(2L * N); // (N) bf16, reduced in place
        DeviceBuffer got = ctx.allocate(4L * N)) { // (N) fp32 received by rank 1
      f.upload(x);
      sum.fill32(0x7fc00000); // NaN: an element nobody wrote stays visible
      got.fill32(0x7fc00000);
      b.upload(xb);
      Nccl.allReduce(f.address(), sum.address(), N, DataType.FLOAT32, stream, comm);
      Nccl.allReduce(b.address(), b.address(), N, DataType.BFLOAT16, stream, comm);
      if (rank == 0) {
        Nccl.send(f.address(), N, DataType.FLOAT32, 1, stream, comm);
      } else if (rank == 1) {
        Nccl.recv(got.address(), N, DataType.FLOAT32, 0, stream, comm);
      }
      ctx.synchronize("the NCCL value check");
      float[] fp32 = sum.downloadFloats(N);
      short[] bf16 = b.downloadShorts(N);
      float[] received = rank == 1 ? got.downloadFloats(N) : null;
      float ranksSum = ranks * (ranks + 1) / 2f;
      for (int i = 0; i < N; i++) {
        float expected = ranksSum * (i % 7 + 1);
        expect("all-reduce fp32", rank, i, expected, fp32[i]);
        expect("all-reduce bf16", rank, i, expected, Float.intBitsToFloat(bf16[i] << 16));
        if (received != null) {
          expect("send/recv rank 0 -> 1", rank, i, value(0, i), received[i]);
        }
      }
    }
  }

  private static void expect(String what, int rank, int i, float expected, float actual) {
    if (Float.compare(expected, actual) != 0) {
      throw new IllegalStateException(what + " gave " + actual + " at element " + i + " on rank "
          + rank + ", expected " + expected);
    }
  }
}
