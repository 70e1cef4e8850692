package io.decodefleet.agent.backend.cuda;

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

  /** Waits for the stream's work; names what was being waited for if it failed. */
  public void synchronize(String after) {
    ctx.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize after " + after);
  }

  public CudaContext context() {
    return ctx;
  }

  CUstream handle() {
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
