package io.decodefleet.agent.backend.cuda.driver;


/**
 * The bandwidth ceiling of a GPU as METHOD counts it: a large device-to-device copy, bytes read
 * plus bytes written over the median time. Every floor in the tables is bytes / this.
 */
public final class CopyBandwidth {

  /** 1 GiB each way: far beyond any L2, long enough that launch overhead is noise. */
  public static final long DEFAULT_BYTES = 1L << 30;

  private CopyBandwidth() {}

  /** Bytes per µs moved by a copy of up to 1 GiB (less when memory is short). */
  public static double measure(CudaContext ctx, CudaStream stream) {
    long free = ctx.memoryInfo()[0];
    long bytes = Math.min(DEFAULT_BYTES, Math.max(1L << 24, free / 8)) & ~0xffffL;
    try (DeviceBuffer src = ctx.allocate(bytes); DeviceBuffer dst = ctx.allocate(bytes)) {
      src.fill32(0x3f803f80); // bf16 1.0 pairs: real data, not zeros
      double us = medianCopyUs(src, dst, bytes, stream);
      return 2.0 * bytes / us;
    }
  }

  /** Median µs of one copy of {@code bytes} from src to dst. */
  static double medianCopyUs(DeviceBuffer src, DeviceBuffer dst, long bytes, CudaStream stream) {
    return EventTimer.median(
        EventTimer.timeUs(stream, 2, 10, () -> dst.copyFrom(src, bytes, stream)));
  }
}
