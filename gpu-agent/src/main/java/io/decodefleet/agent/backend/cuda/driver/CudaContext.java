package io.decodefleet.agent.backend.cuda.driver;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

/**
 * The CUDA context of one GPU: the device's primary context, retained for the life of this object.
 *
 * <p>A context is current per thread: the thread that uses a {@code CudaContext} (an agent's
 * engine thread, the self-test) calls {@link #makeCurrent()} once before its first CUDA call.
 * {@link #open} does so for the calling thread.
 */
public final class CudaContext implements AutoCloseable {

  private final GpuInfo gpu;
  private final CUdevice device;
  private final CUcontext context;
  private boolean closed;

  private CudaContext(GpuInfo gpu, CUdevice device, CUcontext context) {
    this.gpu = gpu;
    this.device = device;
    this.context = context;
  }

  /** Retains {@code gpu}'s primary context and makes it current on the calling thread. */
  public static CudaContext open(GpuInfo gpu) {
    CudaDriver.require();
    CUdevice device = CudaDevices.device(gpu.index());
    CUcontext context = new CUcontext();
    CudaStatus.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device),
        "cuDevicePrimaryCtxRetain", gpu);
    CudaContext ctx = new CudaContext(gpu, device, context);
    ctx.makeCurrent();
    return ctx;
  }

  public GpuInfo gpu() {
    return gpu;
  }

  /** Binds this context to the calling thread. */
  public void makeCurrent() {
    check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
  }

  /** Waits for all work of this context; surfaces errors of earlier asynchronous work. */
  public void synchronize(String after) {
    check(JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize after " + after);
  }

  /** (free, total) device memory in bytes. */
  public long[] memoryInfo() {
    long[] free = new long[1];
    long[] total = new long[1];
    check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
    return new long[] {free[0], total[0]};
  }

  /** Allocates {@code bytes} of device memory (contents undefined). */
  public DeviceBuffer allocate(long bytes) {
    return DeviceBuffer.allocate(this, bytes);
  }

  public CudaStream newStream() {
    return CudaStream.create(this);
  }

  /** Checks a driver status of a call made on this context's GPU. */
  public void check(int result, String operation) {
    CudaStatus.check(result, operation, gpu);
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      check(JCudaDriver.cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
    }
  }
}
