package io.decodefleet.agent.backend.cuda.driver;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;

/**
 * An instantiated CUDA graph captured from a stream: many launches replayed with one host call,
 * which removes the per-launch host cost (several microseconds through JCuda) from the timeline.
 */
public final class CudaGraph implements AutoCloseable {

  private final CudaContext ctx;
  private final CUgraph graph;
  private final CUgraphExec exec;
  private boolean closed;

  private CudaGraph(CudaContext ctx, CUgraph graph, CUgraphExec exec) {
    this.ctx = ctx;
    this.graph = graph;
    this.exec = exec;
  }

  /**
   * Captures what {@code enqueue} puts on {@code stream} (kernel launches and async copies only:
   * synchronous copies and memsets are not allowed during capture) and instantiates it.
   */
  public static CudaGraph capture(CudaStream stream, Runnable enqueue) {
    return capture(stream, enqueue, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_GLOBAL);
  }

  /**
   * As {@link #capture(CudaStream, Runnable)}, but only the calling thread is barred from
   * capture-unsafe calls while it captures: other threads of the process (other agents' engine
   * threads, allocating on their own GPUs) are not disturbed.
   */
  public static CudaGraph captureOnThisThread(CudaStream stream, Runnable enqueue) {
    return capture(stream, enqueue, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
  }

  private static CudaGraph capture(CudaStream stream, Runnable enqueue, int mode) {
    CudaContext ctx = stream.context();
    ctx.check(JCudaDriver.cuStreamBeginCapture(stream.handle(), mode), "cuStreamBeginCapture");
    CUgraph graph = new CUgraph();
    try {
      enqueue.run();
    } finally {
      // End the capture even if enqueueing failed, or the stream stays unusable.
      int rc = JCudaDriver.cuStreamEndCapture(stream.handle(), graph);
      ctx.check(rc, "cuStreamEndCapture");
    }
    CUgraphExec exec = new CUgraphExec();
    int rc = JCudaDriver.cuGraphInstantiate(exec, graph, 0L);
    if (rc != 0) {
      JCudaDriver.cuGraphDestroy(graph); // the instantiate failure is the error to report
    }
    ctx.check(rc, "cuGraphInstantiate");
    return new CudaGraph(ctx, graph, exec);
  }

  /** Enqueues one replay of the graph on {@code stream}. */
  public void launch(CudaStream stream) {
    ctx.check(JCudaDriver.cuGraphLaunch(exec, stream.handle()), "cuGraphLaunch");
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      ctx.check(JCudaDriver.cuGraphExecDestroy(exec), "cuGraphExecDestroy");
      ctx.check(JCudaDriver.cuGraphDestroy(graph), "cuGraphDestroy");
    }
  }
}
