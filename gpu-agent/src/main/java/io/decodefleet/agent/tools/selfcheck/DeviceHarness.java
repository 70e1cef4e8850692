package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.CopyBandwidth;
import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.EventTimer;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.kernels.cuda.Bf16;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.KernelParams;
import io.decodefleet.kernels.cuda.LaunchShape;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One GPU made ready for checks: its context (current on the calling thread), the kernels, a
 * stream, a seeded random source, the measured copy bandwidth, and the device buffers of the check
 * in progress (freed together by {@link #freeAll()}).
 */
public final class DeviceHarness implements AutoCloseable {

  /** bf16 quiet NaN: outputs are filled with it before every run, so unwritten elements show. */
  static final short BF16_NAN = (short) 0x7fc0;
  static final int F32_NAN = 0x7fc00000;
  /** Poison for int32 outputs: no kernel writes it. */
  static final int INT_POISON = 0x8badf00d;

  private static final int WARMUP = 3;
  private static final int REPS = 20;

  private final CudaContext ctx;
  private final KernelModule kernels;
  private final CudaStream stream;
  private final Random random;
  private final List<DeviceBuffer> live = new ArrayList<>();
  private double copyBytesPerUs = Double.NaN;

  private DeviceHarness(CudaContext ctx, KernelModule kernels, CudaStream stream, long seed) {
    this.ctx = ctx;
    this.kernels = kernels;
    this.stream = stream;
    this.random = new Random(seed);
  }

  /** Opens {@code gpu}'s context on the calling thread and loads the kernels. */
  public static DeviceHarness open(GpuInfo gpu, long seed) {
    CudaContext ctx = CudaContext.open(gpu);
    try {
      KernelModule kernels = KernelModule.load(ctx);
      return new DeviceHarness(ctx, kernels, ctx.newStream(), seed);
    } catch (RuntimeException e) {
      ctx.close();
      throw e;
    }
  }

  public GpuInfo gpu() {
    return ctx.gpu();
  }

  public KernelModule kernels() {
    return kernels;
  }

  public CudaStream stream() {
    return stream;
  }

  public CudaContext context() {
    return ctx;
  }

  public Random random() {
    return random;
  }

  /** Device-to-device copy bandwidth (bytes read + written per µs), measured on first use. */
  public double copyBytesPerUs() {
    if (Double.isNaN(copyBytesPerUs)) {
      copyBytesPerUs = CopyBandwidth.measure(ctx, stream);
    }
    return copyBytesPerUs;
  }

  /** Gaussian values (never all zero) already rounded to bf16, for host reference and upload. */
  float[] randomBf16(int n, double std) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = Bf16.round((float) (random.nextGaussian() * std));
    }
    return v;
  }

  public DeviceBuffer track(DeviceBuffer b) {
    live.add(b);
    return b;
  }

  DeviceBuffer bf16(float[] values) {
    DeviceBuffer b = track(ctx.allocate(Math.max(2L, 2L * values.length)));
    b.upload(Bf16.fromFloats(values));
    return b;
  }

  /** Raw bytes (FP8 e4m3 codes). */
  DeviceBuffer bytes(byte[] values) {
    DeviceBuffer b = track(ctx.allocate(Math.max(1L, values.length)));
    b.upload(values);
    return b;
  }

  public DeviceBuffer ints(int[] values) {
    DeviceBuffer b = track(ctx.allocate(Math.max(4L, 4L * values.length)));
    b.upload(values);
    return b;
  }

  public DeviceBuffer poisonedBf16(long elems) {
    DeviceBuffer b = track(ctx.allocate(Math.max(2L, 2L * elems)));
    b.fill16(BF16_NAN);
    return b;
  }

  public DeviceBuffer poisonedF32(long elems) {
    DeviceBuffer b = track(ctx.allocate(Math.max(4L, 4L * elems)));
    b.fill32(F32_NAN);
    return b;
  }

  DeviceBuffer poisonedInts(long n) {
    DeviceBuffer b = track(ctx.allocate(Math.max(4L, 4L * n)));
    b.fill32(INT_POISON);
    return b;
  }

  public DeviceBuffer zeroedInts(long n) {
    DeviceBuffer b = track(ctx.allocate(Math.max(4L, 4L * n)));
    b.fill32(0);
    return b;
  }

  float[] readBf16(DeviceBuffer b, int n) {
    stream.synchronize("kernel");
    return Bf16.toFloats(b.downloadShorts(n));
  }

  DeviceBuffer f32(float[] values) {
    DeviceBuffer b = track(ctx.allocate(Math.max(4L, 4L * values.length)));
    b.upload(values);
    return b;
  }

  float[] readF32(DeviceBuffer b, int n) {
    stream.synchronize("kernel");
    return b.downloadFloats(n);
  }

  int[] readInts(DeviceBuffer b, int n) {
    stream.synchronize("kernel");
    return b.downloadInts(n);
  }

  public void launch(Kernel kernel, LaunchShape shape, KernelParams params) {
    kernels.launch(kernel, shape, params, stream);
  }

  /** Median device time of {@code enqueue} in µs, after a warm-up. */
  double medianUs(Runnable enqueue) {
    return EventTimer.median(EventTimer.timeUs(stream, WARMUP, REPS, enqueue));
  }

  /** A result row with the floor from the measured copy bandwidth. */
  CheckResult result(String kernel, String shape, double relError, double tolerance,
      double medianUs, double bytes, double flops) {
    String failure = Double.isNaN(relError)
        ? "NaN or unwritten output"
        : relError > tolerance ? "error above tolerance" : "";
    return new CheckResult(kernel, shape, relError, tolerance, failure, medianUs, bytes, flops,
        bytes / copyBytesPerUs());
  }

  /** Frees every buffer of the check in progress (after waiting for the stream). */
  public void freeAll() {
    try {
      stream.synchronize("check");
    } finally {
      RuntimeException first = null;
      for (DeviceBuffer b : live) {
        try {
          b.close();
        } catch (RuntimeException e) {
          first = first == null ? e : first;
        }
      }
      live.clear();
      if (first != null) {
        throw first;
      }
    }
  }

  @Override
  public void close() {
    try {
      freeAll();
      stream.close();
      kernels.close();
    } finally {
      ctx.close();
    }
  }
}
