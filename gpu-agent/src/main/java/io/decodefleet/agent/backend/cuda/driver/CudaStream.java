package io.decodefleet.agent.backend.cuda.driver;

import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * A stream of one context. Created blocking (flags 0), so that it is ordered with the
 * synchronous copies and memsets {@link DeviceBuffer} issues on the legacy default stream.
 */
public final class CudaStream implements AutoCloseable {

  private final CudaContext ctx;
  private final CUstream stream;
  private boolean closed;

  private CudaStream(CudaContext ctx, CUstream stream) {
    this.ctx = ctx;
    this.stream = stream;
  }

  static CudaStream create(CudaContext ctx) {
    CUstream s = new CUstream();
    ctx.check(JCudaDriver.cuStreamCreate(s, 0), "cuStreamCreate");
    return new CudaStream(ctx, s);
  }

  /**
   * A stream that does not wait for the legacy default stream (CU_STREAM_NON_BLOCKING): work on it
   * that waits for a peer (an NCCL receive) never holds up a synchronous copy or memset of the
   * context, and those are not ordered with it either, so only asynchronous work goes on it.
   */
  public static CudaStream createNonBlocking(CudaContext ctx) {
    CUstream s = new CUstream();
    ctx.check(JCudaDriver.cuStreamCreate(s, jcuda.driver.CUstream_flags.CU_STREAM_NON_BLOCKING),
        "cuStreamCreate(non-blocking)");
    return new CudaStream(ctx, s);
  }

  /** Whether every piece of work enqueued so far has finished; never blocks. */
  public boolean isIdle() {
    int rc = JCudaDriver.cuStreamQuery(stream);
    if (rc == jcuda.driver.CUresult.CUDA_ERROR_NOT_READY) {
      return false;
    }
    ctx.check(rc, "cuStreamQuery");
    return true;
  }

  /** Waits for the stream's work; names what was being waited for if it failed. */
  public void synchronize(String after) {
    ctx.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize after " + after);
  }

  public CudaContext context() {
    return ctx;
  }

  public CUstream handle() {
    return stream;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      ctx.check(JCudaDriver.cuStreamDestroy(stream), "cuStreamDestroy");
    }
  }
}
