package io.decodefleet.agent.backend.cuda.driver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

/**
 * Page-locked host memory: a step's inputs are written here and copied to the device, its logits
 * come back here. Pinned memory makes those copies true DMA transfers that the stream orders with
 * the kernels (pageable memory would make the driver stage them synchronously).
 *
 * <p>The bytes may be rewritten only after the stream has passed the copy that reads them; the
 * backend synchronises every step, which guarantees it.
 */
public final class PinnedBuffer implements AutoCloseable {

  private final CudaContext ctx;
  private final Pointer pointer;
  private final ByteBuffer bytes;
  private boolean closed;

  private PinnedBuffer(CudaContext ctx, Pointer pointer, ByteBuffer bytes) {
    this.ctx = ctx;
    this.pointer = pointer;
    this.bytes = bytes;
  }

  /** {@code size} bytes (at most 2 GiB: one ByteBuffer views them). */
  public static PinnedBuffer allocate(CudaContext ctx, long size) {
    if (size <= 0 || size > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("pinned buffer of " + size + " bytes: must be in 1.." + Integer.MAX_VALUE);
    }
    Pointer p = new Pointer();
    ctx.check(JCudaDriver.cuMemAllocHost(p, size), "cuMemAllocHost(" + size + " B)");
    return new PinnedBuffer(ctx, p, p.getByteBuffer(0, size).order(ByteOrder.LITTLE_ENDIAN));
  }

  /** The bytes, little-endian; use absolute indexing. */
  public ByteBuffer bytes() {
    return bytes;
  }

  public long size() {
    return bytes.capacity();
  }

  /** Enqueues a copy of this buffer's first {@code count} bytes to {@code dst} at {@code dstOffset}. */
  public void copyTo(DeviceBuffer dst, long dstOffset, long count, CudaStream stream) {
    checkCount(count);
    if (count == 0) {
      return;
    }
    if (dstOffset < 0 || dstOffset + count > dst.bytes()) {
      throw new IllegalArgumentException("copy of " + count + " B at " + dstOffset + " exceeds a " + dst.bytes()
          + " B device buffer");
    }
    ctx.check(JCudaDriver.cuMemcpyHtoDAsync(dst.pointer().withByteOffset(dstOffset), pointer, count,
        stream.handle()), "cuMemcpyHtoDAsync(" + count + " B)");
  }

  /** Enqueues a copy of {@code count} bytes from {@code src} at {@code srcOffset} into this buffer. */
  public void copyFrom(DeviceBuffer src, long srcOffset, long count, CudaStream stream) {
    checkCount(count);
    if (count == 0) {
      return;
    }
    if (srcOffset < 0 || srcOffset + count > src.bytes()) {
      throw new IllegalArgumentException("copy of " + count + " B at " + srcOffset + " exceeds a " + src.bytes()
          + " B device buffer");
    }
    ctx.check(JCudaDriver.cuMemcpyDtoHAsync(pointer, src.pointer().withByteOffset(srcOffset), count,
        stream.handle()), "cuMemcpyDtoHAsync(" + count + " B)");
  }

  private void checkCount(long count) {
    if (closed) {
      throw new IllegalStateException("copy through a freed pinned buffer");
    }
    if (count < 0 || count > bytes.capacity()) {
      throw new IllegalArgumentException("copy of " + count + " B exceeds the pinned buffer's " + bytes.capacity()
          + " B");
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      ctx.check(JCudaDriver.cuMemFreeHost(pointer), "cuMemFreeHost");
    }
  }
}
