package io.decodefleet.agent.tools.bench;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One timed point of {@code gpu-agent bench kernels}.
 *
 * @param shape the grid coordinates (batch, context, m, n, k, ...), in print order
 * @param medianUs median device time of one call, from graph replays
 * @param bytes the bytes the target counts (KV bytes read for attention, weight bytes for the
 *     skinny GEMM, read + written for the copy)
 * @param floorUs bytes / measured copy bandwidth
 * @param inputSets distinct input sets the launches rotate over (their total exceeds L2)
 * @param launchesPerGraph launches captured in the timed graph
 */
public record BenchResult(
    String kernel,
    String variant,
    Map<String, Long> shape,
    double medianUs,
    double bytes,
    double floorUs,
    int inputSets,
    int launchesPerGraph) {

  public BenchResult {
    shape = new LinkedHashMap<>(shape);
  }

  public double terabytesPerSecond() {
    return bytes / medianUs / 1e6;
  }

  /** Time over floor: 1.0 would be copy speed. */
  public double gap() {
    return medianUs / floorUs;
  }

  public String shapeText() {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Long> e : shape.entrySet()) {
      sb.append(sb.length() == 0 ? "" : " ").append(e.getKey()).append('=').append(e.getValue());
    }
    return sb.toString();
  }

  /** This result as one JSON object. */
  public String toJson() {
    StringBuilder sb = new StringBuilder("{");
    sb.append("\"kernel\": \"").append(kernel).append("\", \"variant\": \"").append(variant)
        .append("\", \"shape\": {");
    int i = 0;
    for (Map.Entry<String, Long> e : shape.entrySet()) {
      sb.append(i++ == 0 ? "" : ", ").append('"').append(e.getKey()).append("\": ")
          .append(e.getValue());
    }
    sb.append(String.format(Locale.ROOT,
        "}, \"median_us\": %.3f, \"bytes\": %.0f, \"tb_per_s\": %.4f, \"floor_us\": %.3f,"
            + " \"gap\": %.3f, \"input_sets\": %d, \"launches_per_graph\": %d}",
        medianUs, bytes, terabytesPerSecond(), floorUs, gap(), inputSets, launchesPerGraph));
    return sb.toString();
  }
}
