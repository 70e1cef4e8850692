package io.decodefleet.agent.calibration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The calibration's terms that benches other than {@code bench step} measure, fitted from their rows
 * and written into an existing calibration file ({@code gpu-agent bench tp --calibration FILE}, {@code
 * gpu-agent bench kv-transfer --calibration FILE}): the tensor-parallel scaling of a single device's
 * table, and the cost of moving a sequence's KV between two agents. Both are least-squares lines.
 */
public final class CalibrationTerms {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private CalibrationTerms() {}

  /**
   * The {@code tp=K} step from the single-device one, {@code t_K = t_1 / (K efficiency) + 2 layers
   * all_reduce_us}, fitted by least squares to pairs {@code {t_1, t_K}} of the same step (batch,
   * context, decode path) timed on one device and on a group of {@code k}; the intercept is held at 0
   * or above (a negative one is refitted through the origin) and the efficiency at 1 or below.
   */
  public static StepCalibration.TensorParallelScaling tensorParallel(List<double[]> singleAndGroupMicros, int k,
      int layers) {
    if (k < 2) throw new IllegalArgumentException("a tensor-parallel group has 2 or more devices, got " + k);
    double[] line = rising(singleAndGroupMicros, "tensor-parallel steps",
        "the group's steps do not grow with the single device's");
    double slope = line[0];
    double intercept = line[1];
    double efficiency = Math.min(1.0, 1.0 / (k * slope));
    return new StepCalibration.TensorParallelScaling(efficiency, intercept / (2.0 * layers), layers);
  }

  /**
   * Moving {@code bytes} of KV, {@code latency_us + bytes / bytes_per_us}, fitted by least squares to
   * pairs {@code {bytes, µs}}; the latency is held at 0 or above.
   */
  public static StepCalibration.KvTransferCost kvTransfer(List<double[]> bytesAndMicros, long bytesPerToken) {
    double[] line = rising(bytesAndMicros, "KV transfers", "the transfers do not take longer with more bytes");
    return new StepCalibration.KvTransferCost(line[1], 1.0 / line[0], bytesPerToken);
  }

  /** Writes {@code tp} as the calibration file's {@code tensor_parallel} term, the rest of the file as it was. */
  public static void write(Path file, StepCalibration.TensorParallelScaling tp) {
    ObjectNode term = MAPPER.createObjectNode();
    term.put("efficiency", round(tp.efficiency()));
    term.put("all_reduce_us", round(tp.allReduceMicros()));
    term.put("layers", tp.layers());
    put(file, "tensor_parallel", term);
  }

  /** Writes {@code kv} as the calibration file's {@code kv_transfer} term, the rest of the file as it was. */
  public static void write(Path file, StepCalibration.KvTransferCost kv) {
    ObjectNode term = MAPPER.createObjectNode();
    term.put("latency_us", round(kv.latencyMicros()));
    term.put("bytes_per_us", round(kv.bytesPerMicro()));
    term.put("bytes_per_token", kv.bytesPerToken());
    put(file, "kv_transfer", term);
  }

  /**
   * Whether {@code file} is a calibration this can add a term to (checked before a bench runs): one line
   * saying why not, or null.
   */
  public static String unwritable(Path file) {
    try {
      read(file);
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  private static void put(Path file, String key, ObjectNode term) {
    ObjectNode root = read(file);
    root.set(key, term);
    try {
      Files.writeString(file, MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n",
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  private static ObjectNode read(Path file) {
    JsonNode root;
    try {
      root = MAPPER.readTree(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read calibration " + file + ": " + e.getMessage());
    }
    if (!(root instanceof ObjectNode o) || !StepCalibration.FORMAT.equals(o.path("format").asText())) {
      throw new IllegalArgumentException(file + " is not a calibration (its format is not " + StepCalibration.FORMAT
          + "): write one with gpu-agent bench step --calibration-out first");
    }
    return o;
  }

  /**
   * {slope, intercept} of the least-squares line through the points {x, y} with the intercept held at 0
   * or above (a negative one refitted through the origin); the slope must come out above 0, else {@code
   * notRising} and the slope are the refusal.
   */
  private static double[] rising(List<double[]> points, String what, String notRising) {
    double[] line = fit(points, what);
    if (line[1] < 0) line = new double[] {throughOrigin(points), 0};
    if (!(line[0] > 0)) {
      throw new IllegalArgumentException(notRising + " (slope " + line[0] + "): nothing to fit");
    }
    return line;
  }

  /** {slope, intercept} of the least-squares line through the points {x, y}. */
  private static double[] fit(List<double[]> points, String what) {
    if (points.size() < 2) {
      throw new IllegalArgumentException("fitting " + what + " needs 2 or more points, got " + points.size());
    }
    double n = points.size();
    double sx = 0;
    double sy = 0;
    for (double[] p : points) {
      sx += p[0];
      sy += p[1];
    }
    double mx = sx / n;
    double my = sy / n;
    double sxx = 0;
    double sxy = 0;
    for (double[] p : points) {
      sxx += (p[0] - mx) * (p[0] - mx);
      sxy += (p[0] - mx) * (p[1] - my);
    }
    if (sxx == 0) throw new IllegalArgumentException("fitting " + what + " needs points of different sizes");
    double slope = sxy / sxx;
    return new double[] {slope, my - slope * mx};
  }

  private static double throughOrigin(List<double[]> points) {
    double sxx = 0;
    double sxy = 0;
    for (double[] p : points) {
      sxx += p[0] * p[0];
      sxy += p[0] * p[1];
    }
    return sxy / sxx;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
