package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

/**
 * Device timestamps around each step: an event before the step's input copy and one after its
 * output copy. Their difference is the step's device time; the previous step's end to this one's
 * start is the time the GPU sat idle between them (host work the GPU waited for).
 */
final class StepEvents implements AutoCloseable {

  private final CudaContext ctx;
  private CUevent start;
  private CUevent end;
  private CUevent previousEnd;
  private boolean havePrevious;
  private boolean closed;

  StepEvents(CudaContext ctx) {
    this.ctx = ctx;
    this.start = create(ctx);
    this.end = create(ctx);
    this.previousEnd = create(ctx);
  }

  private static CUevent create(CudaContext ctx) {
    CUevent e = new CUevent();
    ctx.check(JCudaDriver.cuEventCreate(e, 0), "cuEventCreate");
    return e;
  }

  void recordStart(CudaStream stream) {
    ctx.check(JCudaDriver.cuEventRecord(start, stream.handle()), "cuEventRecord(step start)");
  }

  void recordEnd(CudaStream stream) {
    ctx.check(JCudaDriver.cuEventRecord(end, stream.handle()), "cuEventRecord(step end)");
  }

  /**
   * After the stream has passed the end event: {device µs of this step, idle µs since the previous
   * step's end (NaN for the first)}. Makes this step the previous one.
   */
  double[] finish() {
    double gpu = elapsedUs(start, end);
    double gap = havePrevious ? elapsedUs(previousEnd, start) : Double.NaN;
    CUevent t = previousEnd;
    previousEnd = end;
    end = t;
    havePrevious = true;
    return new double[] {gpu, gap};
  }

  /** Forget the previous step: the next gap would span work that was not a step (e.g. a capture). */
  void resetGap() {
    havePrevious = false;
  }

  private double elapsedUs(CUevent from, CUevent to) {
    float[] ms = new float[1];
    ctx.check(JCudaDriver.cuEventElapsedTime(ms, from, to), "cuEventElapsedTime");
    return ms[0] * 1000.0;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      JCudaDriver.cuEventDestroy(start);
      JCudaDriver.cuEventDestroy(end);
      JCudaDriver.cuEventDestroy(previousEnd);
    }
  }
}
