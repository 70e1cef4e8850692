package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code gpu-agent bench nccl} prints and writes: a fixed-width table, one row per point as
 * it completes; the send/recv targets; and a JSON document whose {@code results} have the
 * same fields as the PyTorch reference script's, so the two can be compared point by point.
 */
public final class NcclBenchReport {

  private static final String FORMAT = "%-10s %-5s %-6s %6s %11s %5s %11s %11s %11s%n";
  /** The targets for send/recv between two NVLink GPUs. */
  static final long TARGET_LATENCY_BYTES = 4L << 20;
  static final double TARGET_LATENCY_US = 30.0;
  static final long TARGET_BANDWIDTH_BYTES = 256L << 20;
  static final double TARGET_BANDWIDTH_GBPS = 330.0;

  private NcclBenchReport() {}

  public static String header() {
    return String.format(Locale.ROOT, FORMAT, "op", "dtype", "gpus", "size", "count", "iters",
        "time us", "algbw GB/s", "busbw GB/s");
  }

  public static String row(NcclBenchPoint p) {
    return String.format(Locale.ROOT, FORMAT, p.op(), p.dtype(), p.gpusText(),
        ByteSize.format(p.bytes()), p.count(), p.iters(),
        String.format(Locale.ROOT, "%.2f", p.timeUs()),
        String.format(Locale.ROOT, "%.2f", p.algbwGbps()),
        String.format(Locale.ROOT, "%.2f", p.busbwGbps()));
  }

  /**
   * One line per send/recv pair measured at 4 MiB or 256 MiB, against the targets
   * (at most 30 us at 4 MiB, at least 330 GB/s at 256 MiB); empty when neither size was run.
   */
  public static List<String> targetLines(List<NcclBenchPoint> points) {
    List<String> lines = new ArrayList<>();
    for (NcclBenchPoint p : points) {
      if (!NcclBenchPoint.SEND_RECV.equals(p.op())) {
        continue;
      }
      if (p.bytes() == TARGET_LATENCY_BYTES) {
        lines.add(String.format(Locale.ROOT, "send/recv %s at 4M: %.2f us (target <= %.0f us: %s)",
            p.gpusText(), p.timeUs(), TARGET_LATENCY_US,
            p.timeUs() <= TARGET_LATENCY_US ? "met" : "missed"));
      } else if (p.bytes() == TARGET_BANDWIDTH_BYTES) {
        lines.add(String.format(Locale.ROOT,
            "send/recv %s at 256M: %.1f GB/s (target >= %.0f GB/s: %s)", p.gpusText(),
            p.algbwGbps(), TARGET_BANDWIDTH_GBPS,
            p.algbwGbps() >= TARGET_BANDWIDTH_GBPS ? "met" : "missed"));
      }
    }
    return lines;
  }

  /**
   * The JSON document.
   *
   * @param ncclVersion e.g. {@code 2.27.3}
   * @param env the environment's NCCL_* and CUDA_VISIBLE_DEVICES variables, recorded because they
   *     change what NCCL does
   */
  public static String json(List<GpuInfo> gpus, String ncclVersion, NcclBench.Settings settings,
      Map<String, String> env, List<NcclBenchPoint> points) {
    StringBuilder sb = new StringBuilder("{\n");
    sb.append("  \"tool\": \"gpu-agent bench nccl\",\n");
    sb.append("  \"date\": \"").append(Instant.now()).append("\",\n");
    sb.append("  \"nccl_version\": \"").append(escape(ncclVersion)).append("\",\n");
    sb.append("  \"devices\": [");
    for (int i = 0; i < gpus.size(); i++) {
      GpuInfo g = gpus.get(i);
      sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT,
          "{\"index\": %d, \"name\": \"%s\", \"arch\": \"%s\", \"memory_bytes\": %d}",
          g.index(), escape(g.name()), g.arch(), g.totalBytes()));
    }
    sb.append("],\n  \"env\": {");
    int k = 0;
    for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
      sb.append(k++ == 0 ? "" : ", ").append('"').append(escape(e.getKey())).append("\": \"")
          .append(escape(e.getValue())).append('"');
    }
    sb.append("},\n");
    sb.append(String.format(Locale.ROOT,
        "  \"method\": {\"warmup\": %d, \"reps\": %d, \"timing\": \"CUDA events around iters"
            + " back-to-back operations; per rank the median over reps of time / iters; the slowest"
            + " rank\", \"all_reduce\": \"sum, in place\", \"busbw\": \"algbw * 2(n-1)/n for"
            + " all_reduce, algbw for send_recv\", \"gb\": 1e9},%n",
        settings.warmup(), settings.reps()));
    sb.append("  \"results\": [\n");
    for (int i = 0; i < points.size(); i++) {
      sb.append("    ").append(points.get(i).toJson()).append(i + 1 < points.size() ? ",\n" : "\n");
    }
    sb.append("  ]\n}\n");
    return sb.toString();
  }

  /** The variables that steer NCCL, from {@code environment}. */
  public static Map<String, String> ncclEnvironment(Map<String, String> environment) {
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, String> e : environment.entrySet()) {
      if (e.getKey().startsWith("NCCL_") || e.getKey().equals("CUDA_VISIBLE_DEVICES")
          || e.getKey().equals("DECODEFLEET_NCCL_LIBRARY")) {
        out.put(e.getKey(), e.getValue());
      }
    }
    return out;
  }

  static String escape(String s) {
    StringBuilder sb = new StringBuilder();
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.toString();
  }
}
