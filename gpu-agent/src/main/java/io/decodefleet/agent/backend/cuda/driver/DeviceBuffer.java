package io.decodefleet.agent.backend.cuda.driver;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * A block of device memory owned by one {@link CudaContext}. Transfers are synchronous with the
 * host (the driver's pageable-memory copies); they are ordered after earlier work of the
 * context's blocking streams and before later work.
 */
public final class DeviceBuffer implements AutoCloseable {

  private final CudaContext ctx;
  private final DevicePointer ptr;
  private final long bytes;
  private boolean freed;

  private DeviceBuffer(CudaContext ctx, DevicePointer ptr, long bytes) {
    this.ctx = ctx;
    this.ptr = ptr;
    this.bytes = bytes;
  }

  static DeviceBuffer allocate(CudaContext ctx, long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("bytes must be > 0 but is " + bytes);
    }
    DevicePointer ptr = new DevicePointer();
    ctx.check(JCudaDriver.cuMemAlloc(ptr, bytes), "cuMemAlloc(" + mib(bytes) + ")");
    return new DeviceBuffer(ctx, ptr, bytes);
  }

  /** The device address, as kernel parameter structs carry it. */
  public long address() {
    return ptr.address();
  }

  public long bytes() {
    return bytes;
  }

  /** The address {@code offsetBytes} into this buffer. */
  public long address(long offsetBytes) {
    checkRange(offsetBytes, 0, "address");
    return ptr.address() + offsetBytes;
  }

  public void upload(byte[] data) {
    copyIn(Pointer.to(data), data.length, "byte[" + data.length + "]");
  }

  public void upload(short[] data) {
    copyIn(Pointer.to(data), 2L * data.length, "short[" + data.length + "]");
  }

  public void upload(int[] data) {
    copyIn(Pointer.to(data), 4L * data.length, "int[" + data.length + "]");
  }

  public void upload(float[] data) {
    copyIn(Pointer.to(data), 4L * data.length, "float[" + data.length + "]");
  }

  public short[] downloadShorts(int count) {
    short[] out = new short[count];
    copyOut(Pointer.to(out), 2L * count, "short[" + count + "]");
    return out;
  }

  public int[] downloadInts(int count) {
    int[] out = new int[count];
    copyOut(Pointer.to(out), 4L * count, "int[" + count + "]");
    return out;
  }

  public float[] downloadFloats(int count) {
    float[] out = new float[count];
    copyOut(Pointer.to(out), 4L * count, "float[" + count + "]");
    return out;
  }

  /** Sets every 16-bit word to {@code value} (e.g. 0x7fc0, a bf16 NaN, to poison an output). */
  public void fill16(short value) {
    ctx.check(JCudaDriver.cuMemsetD16(ptr, value, bytes / 2), "cuMemsetD16(" + mib(bytes) + ")");
  }

  /** Sets every 32-bit word to {@code value} (e.g. 0x7fc00000, a float NaN, or zero counters). */
  public void fill32(int value) {
    ctx.check(JCudaDriver.cuMemsetD32(ptr, value, bytes / 4), "cuMemsetD32(" + mib(bytes) + ")");
  }

  /** Device-to-device copy of {@code count} bytes from {@code src} into this buffer, on a stream. */
  public void copyFrom(DeviceBuffer src, long count, CudaStream stream) {
    checkRange(0, count, "copyFrom");
    src.checkRange(0, count, "copyFrom source");
    ctx.check(JCudaDriver.cuMemcpyDtoDAsync(ptr, src.ptr, count, stream.handle()),
        "cuMemcpyDtoDAsync(" + mib(count) + ")");
  }

  private void copyIn(Pointer host, long count, String what) {
    checkRange(0, count, "upload of " + what);
    ctx.check(JCudaDriver.cuMemcpyHtoD(ptr, host, count), "cuMemcpyHtoD(" + what + ")");
  }

  private void copyOut(Pointer host, long count, String what) {
    checkRange(0, count, "download of " + what);
    ctx.check(JCudaDriver.cuMemcpyDtoH(host, ptr, count), "cuMemcpyDtoH(" + what + ")");
  }

  private void checkRange(long offset, long count, String what) {
    if (freed) {
      throw new IllegalStateException(what + " on a freed buffer");
    }
    if (offset < 0 || count < 0 || offset + count > bytes) {
      throw new IllegalArgumentException(
          what + ": bytes [" + offset + ", " + (offset + count) + ") exceed the buffer's " + bytes);
    }
  }

  public CUdeviceptr pointer() {
    return ptr;
  }

  private static String mib(long bytes) {
    return bytes >= (1L << 20) ? String.format("%.1f MiB", bytes / 1048576.0) : bytes + " B";
  }

  @Override
  public void close() {
    if (!freed) {
      freed = true;
      ctx.check(JCudaDriver.cuMemFree(ptr), "cuMemFree(" + mib(bytes) + ")");
    }
  }
}
