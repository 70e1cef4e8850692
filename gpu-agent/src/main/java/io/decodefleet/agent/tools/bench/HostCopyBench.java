package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.driver.PinnedBuffer;
import java.io.File;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

/**
 * {@code gpu-agent bench host-copy}: host↔device copies from pageable memory (a direct buffer the
 * driver must stage) and from pinned memory (cuMemAllocHost, which the copy engine reads directly),
 * host to device and back, at each size. Each point is the median over repetitions of the host's
 * wall time from issuing one copy to its completion — what an engine waiting on its inputs sees.
 * The floor is bytes over the copy engine's measured ceiling: the best pinned bandwidth of that
 * direction over all sizes of the run.
 */
public final class HostCopyBench {

  /** 4 KiB to 1 GiB, × 4. */
  public static final List<Long> DEFAULT_SIZES = List.of(4L << 10, 16L << 10, 64L << 10, 256L << 10, 1L << 20,
      4L << 20, 16L << 20, 64L << 20, 256L << 20, 1L << 30);
  static final int WARMUP = 2;

  /** One size, memory kind and direction; times in µs, bandwidth in GB/s (10^9 bytes). */
  public record Point(long bytes, String memory, String direction, double medianUs, double floorUs) {
    public double gigabytesPerSecond() {
      return bytes / medianUs / 1e3;
    }

    public double gap() {
      return medianUs / floorUs;
    }
  }

  /**
   * The run.
   *
   * @param numaNodes the host's NUMA nodes (0 where the system does not say)
   * @param ceilingGbps best pinned GB/s per direction: {host→device, device→host}
   */
  public record Result(String device, int numaNodes, double[] ceilingGbps, List<Point> points) {}

  private HostCopyBench() {}

  public static Result run(GpuInfo gpu, List<Long> sizes, int reps, PrintStream out) {
    long largest = sizes.stream().mapToLong(Long::longValue).max().orElseThrow();
    int numa = numaNodes();
    if (numa > 1) {
      out.printf(Locale.ROOT, "this host has %d NUMA nodes: buffers come from the node the JVM runs on; run under"
          + " numactl --cpunodebind=N --membind=N once per node to measure each%n", numa);
    }
    List<double[]> raw = new ArrayList<>(); // bytes, memory (0 pageable, 1 pinned), direction (0 h2d, 1 d2h), µs
    try (CudaContext ctx = CudaContext.open(gpu);
        CudaStream stream = ctx.newStream();
        DeviceBuffer device = ctx.allocate(largest);
        PinnedBuffer pinned = PinnedBuffer.allocate(ctx, largest)) {
      ByteBuffer pageable = ByteBuffer.allocateDirect((int) largest);
      for (int i = 0; i < largest; i += 4096) pageable.put(i, (byte) i); // touch every page before timing
      for (long n : sizes) {
        raw.add(new double[] {n, 0, 0, medianUs(reps, () -> ctx.check(JCudaDriver.cuMemcpyHtoD(device.pointer(),
            Pointer.to(pageable), n), "cuMemcpyHtoD(pageable, " + n + " B)"))});
        raw.add(new double[] {n, 0, 1, medianUs(reps, () -> ctx.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(pageable),
            device.pointer(), n), "cuMemcpyDtoH(pageable, " + n + " B)"))});
        raw.add(new double[] {n, 1, 0, medianUs(reps, () -> {
          pinned.copyTo(device, 0, n, stream);
          stream.synchronize("pinned host-to-device copy");
        })});
        raw.add(new double[] {n, 1, 1, medianUs(reps, () -> {
          pinned.copyFrom(device, 0, n, stream);
          stream.synchronize("pinned device-to-host copy");
        })});
      }
    }
    Result r = result(gpu.summary(), numa, raw);
    out.print(table(r));
    return r;
  }

  /** Points from raw rows {bytes, memory, direction, µs}: the ceilings are the pinned maxima per direction. */
  static Result result(String device, int numa, List<double[]> raw) {
    double[] ceiling = new double[2];
    for (double[] p : raw) {
      if (p[1] == 1) ceiling[(int) p[2]] = Math.max(ceiling[(int) p[2]], p[0] / p[3] / 1e3);
    }
    List<Point> points = new ArrayList<>();
    for (double[] p : raw) {
      double floorUs = p[0] / (ceiling[(int) p[2]] * 1e3);
      points.add(new Point((long) p[0], p[1] == 1 ? "pinned" : "pageable", p[2] == 0 ? "h2d" : "d2h", p[3], floorUs));
    }
    return new Result(device, numa, ceiling, points);
  }

  /** The console table: one row per size, both memories, both directions. */
  public static String table(Result r) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
        "copy-engine ceiling (best pinned): host->device %.1f GB/s, device->host %.1f GB/s%n", r.ceilingGbps()[0],
        r.ceilingGbps()[1]));
    sb.append(String.format(Locale.ROOT, "%-6s %-5s %14s %10s %14s %10s %8s%n", "size", "dir", "pageable us",
        "GB/s", "pinned us", "GB/s", "floor us"));
    for (int i = 0; i + 1 < r.points().size(); i++) {
      Point a = r.points().get(i);
      Point b = r.points().stream().filter(p -> p.bytes() == a.bytes() && p.direction().equals(a.direction())
          && !p.memory().equals(a.memory())).findFirst().orElse(null);
      if (!a.memory().equals("pageable") || b == null) continue;
      sb.append(String.format(Locale.ROOT, "%-6s %-5s %14.2f %10.2f %14.2f %10.2f %8.2f%n", ByteSize.format(a.bytes()),
          a.direction(), a.medianUs(), a.gigabytesPerSecond(), b.medianUs(), b.gigabytesPerSecond(), b.floorUs()));
    }
    return sb.toString();
  }

  /** The run as JSON. */
  public static String json(Result r) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "{%n  \"device\": \"%s\",%n  \"numa_nodes\": %d,%n"
        + "  \"ceiling_gb_per_s\": {\"h2d\": %.3f, \"d2h\": %.3f},%n  \"points\": [%n", r.device().replace("\"", "'"),
        r.numaNodes(), r.ceilingGbps()[0], r.ceilingGbps()[1]));
    for (int i = 0; i < r.points().size(); i++) {
      Point p = r.points().get(i);
      sb.append(String.format(Locale.ROOT, "    {\"bytes\": %d, \"memory\": \"%s\", \"direction\": \"%s\", \"median_us\": %.3f,"
          + " \"gb_per_s\": %.3f, \"floor_us\": %.3f}%s%n", p.bytes(), p.memory(), p.direction(), p.medianUs(),
          p.gigabytesPerSecond(), p.floorUs(), i + 1 < r.points().size() ? "," : ""));
    }
    return sb.append("  ]\n}\n").toString();
  }

  private static double medianUs(int reps, Runnable copy) {
    for (int i = 0; i < WARMUP; i++) copy.run();
    double[] us = new double[reps];
    for (int i = 0; i < reps; i++) {
      long t0 = System.nanoTime();
      copy.run();
      us[i] = (System.nanoTime() - t0) / 1e3;
    }
    Arrays.sort(us);
    return reps % 2 == 1 ? us[reps / 2] : 0.5 * (us[reps / 2 - 1] + us[reps / 2]);
  }

  /** NUMA nodes the kernel lists under /sys (0 where it lists none). */
  static int numaNodes() {
    File[] nodes = new File("/sys/devices/system/node").listFiles((d, name) -> name.matches("node\\d+"));
    return nodes == null ? 0 : nodes.length;
  }
}
