package io.decodefleet.coordinator.report;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.coordinator.metrics.ReportJson;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import io.decodefleet.coordinator.report.Expectation.Direction;
import io.decodefleet.coordinator.report.MetricVerdict.Verdict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Expected results of a sweep, for regression verdicts. The file looks like
 *
 * <pre>
 * {
 *   "description": "8x H100, llama3-8b, 1000 requests",
 *   "metrics": {
 *     "8": {
 *       "output_throughput": {"expected": 650.0, "direction": "higher", "tolerance": 0.25},
 *       "p99_ttft_ms": {"expected": 3800, "direction": "lower"}
 *     },
 *     "1": { ... }
 *   }
 * }
 * </pre>
 *
 * <p>Keys of "metrics" are world sizes; metric names are the flat keys of a report.json point
 * ({@link ReportJson#pointJson}); "direction" is "higher" or "lower" (is better); "tolerance" is
 * relative and defaults to {@link Expectation#DEFAULT_TOLERANCE}. "description" is optional.
 *
 * @param description what the expectations describe (hardware, model, workload); may be null
 * @param expectations in file order, world sizes grouped
 */
public record Expectations(String description, List<Expectation> expectations) {

  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private static final Set<String> TOP_LEVEL_KEYS = Set.of("description", "metrics");
  private static final Set<String> ENTRY_KEYS = Set.of("expected", "direction", "tolerance");

  public Expectations {
    expectations = List.copyOf(expectations);
  }

  /**
   * Reads an expectations file.
   *
   * @throws IOException if the file cannot be read
   * @throws IllegalArgumentException one line naming the file and the offending key (or the line
   *     and column of a JSON syntax error)
   */
  public static Expectations load(Path file) throws IOException {
    JsonNode root;
    try {
      root = MAPPER.readTree(file.toFile());
    } catch (JsonParseException e) {
      throw new IllegalArgumentException("expectations file " + file + ": not valid JSON at line "
          + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ": "
          + e.getOriginalMessage().lines().findFirst().orElse(""));
    }
    ExpectationsReader reader = new ExpectationsReader(file);
    if (root == null || !root.isObject()) {
      throw reader.bad("the file", "must be a JSON object with \"metrics\"");
    }
    reader.onlyKeys(root, "", TOP_LEVEL_KEYS);
    String description = null;
    if (root.has("description")) {
      JsonNode text = root.get("description");
      if (!text.isTextual() && !text.isNull()) {
        throw reader.bad("description", "must be a string");
      }
      description = text.isNull() ? null : text.textValue();
    }
    JsonNode metrics = root.get("metrics");
    if (metrics == null || !metrics.isObject()) {
      throw reader.bad("metrics", "must be an object keyed by world size");
    }
    List<Expectation> expectations = new ArrayList<>();
    for (Map.Entry<String, JsonNode> point : metrics.properties()) {
      String pointKey = "metrics." + point.getKey();
      int worldSize = reader.worldSize(point.getKey(), pointKey);
      if (!point.getValue().isObject()) {
        throw reader.bad(pointKey, "must be an object keyed by metric name");
      }
      for (Map.Entry<String, JsonNode> metric : point.getValue().properties()) {
        expectations.add(reader.expectation(worldSize, metric.getKey(), metric.getValue(),
            pointKey + "." + metric.getKey()));
      }
    }
    return new Expectations(description, expectations);
  }

  /**
   * One verdict per expectation, in file order. A metric's actual value is the number under its
   * key in the report.json point of its world size; a missing point, a missing key or a null
   * value (say "request_goodput" without SLOs) gives MISSING. Expectations are kept per world size:
   * a sweep on another axis (client mode) has none.
   *
   * @throws IllegalStateException if {@code report} is not a world-size sweep
   */
  public List<MetricVerdict> compare(SweepReport report) {
    Map<Integer, ObjectNode> points = new HashMap<>();
    for (SweepPoint point : report.points()) {
      points.put(point.worldSize(), ReportJson.pointJson(point, report.percentiles()));
    }
    List<MetricVerdict> verdicts = new ArrayList<>(expectations.size());
    for (Expectation expectation : expectations) {
      ObjectNode point = points.get(expectation.worldSize());
      JsonNode value = point == null ? null : point.get(expectation.metric());
      double actual = value != null && value.isNumber() ? value.doubleValue() : Double.NaN;
      verdicts.add(expectation.judge(actual));
    }
    return verdicts;
  }

  /**
   * These expectations with every IMPROVED metric's expected value replaced by its actual value,
   * so the next run is held to the better result; everything else (order, directions,
   * tolerances, description) unchanged.
   */
  public Expectations withImprovements(List<MetricVerdict> verdicts) {
    Map<String, Double> improved = new HashMap<>();
    for (MetricVerdict verdict : verdicts) {
      if (verdict.verdict() == Verdict.IMPROVED && Double.isFinite(verdict.actual())) {
        improved.put(key(verdict.worldSize(), verdict.metric()), verdict.actual());
      }
    }
    List<Expectation> updated = new ArrayList<>(expectations.size());
    for (Expectation expectation : expectations) {
      Double actual = improved.get(key(expectation.worldSize(), expectation.metric()));
      updated.add(actual == null ? expectation : expectation.withExpected(actual));
    }
    return new Expectations(description, updated);
  }

  /** Whether any verdict is REGRESSED (MISSING is not a regression: the sweep may be smaller). */
  public static boolean anyRegressed(List<MetricVerdict> verdicts) {
    return verdicts.stream().anyMatch(v -> v.verdict() == Verdict.REGRESSED);
  }

  /**
   * Writes the file as pretty-printed UTF-8 JSON in the layout {@link #load} reads, world sizes and
   * metrics in this object's order and "tolerance" only where one was given, so writing the same
   * expectations always gives the same bytes.
   */
  public void write(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(toJson())
        + "\n", StandardCharsets.UTF_8);
  }

  /** The file's JSON tree. */
  ObjectNode toJson() {
    ObjectNode root = MAPPER.createObjectNode();
    if (description != null) {
      root.put("description", description);
    }
    ObjectNode metrics = root.putObject("metrics");
    for (Expectation expectation : expectations) {
      String worldSize = Integer.toString(expectation.worldSize());
      ObjectNode point = metrics.has(worldSize)
          ? (ObjectNode) metrics.get(worldSize)
          : metrics.putObject(worldSize);
      ObjectNode entry = point.putObject(expectation.metric());
      entry.put("expected", expectation.expected());
      entry.put("direction", expectation.direction().jsonName());
      if (expectation.tolerance() != null) {
        entry.put("tolerance", expectation.tolerance());
      }
    }
    return root;
  }

  private static String key(int worldSize, String metric) {
    return worldSize + "/" + metric;
  }

  /** Validation of one file's entries, with messages that name the file and the key. */
  private static final class ExpectationsReader {
    private final Path file;

    ExpectationsReader(Path file) {
      this.file = Objects.requireNonNull(file);
    }

    IllegalArgumentException bad(String key, String why) {
      return new IllegalArgumentException("expectations file " + file + ": " + key + " " + why);
    }

    /** Rejects a key of {@code node} not in {@code allowed}; {@code prefix}: its path or "". */
    void onlyKeys(JsonNode node, String prefix, Set<String> allowed) {
      for (String name : (Iterable<String>) node::fieldNames) {
        if (!allowed.contains(name)) {
          String key = prefix.isEmpty() ? name : prefix + "." + name;
          throw bad(key, "is not a known key (expected one of "
              + String.join(", ", allowed.stream().sorted().toList()) + ")");
        }
      }
    }

    int worldSize(String text, String key) {
      try {
        int worldSize = Integer.parseInt(text);
        if (worldSize >= 1) {
          return worldSize;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw bad(key, "is not a world size (a whole number >= 1)");
    }

    Expectation expectation(int worldSize, String metric, JsonNode entry, String key) {
      if (metric.isBlank()) {
        throw bad(key, "has an empty metric name");
      }
      if (!entry.isObject()) {
        throw bad(key, "must be an object with \"expected\" and \"direction\"");
      }
      onlyKeys(entry, key, ENTRY_KEYS);
      JsonNode expected = entry.get("expected");
      if (expected == null || !expected.isNumber() || !Double.isFinite(expected.doubleValue())) {
        throw bad(key + ".expected", "must be a number");
      }
      JsonNode direction = entry.get("direction");
      Direction parsed;
      if (direction != null && "higher".equals(direction.textValue())) {
        parsed = Direction.HIGHER;
      } else if (direction != null && "lower".equals(direction.textValue())) {
        parsed = Direction.LOWER;
      } else {
        throw bad(key + ".direction", "must be \"higher\" or \"lower\", got "
            + (direction == null ? "nothing" : direction.toString()));
      }
      Double tolerance = null;
      JsonNode given = entry.get("tolerance");
      if (given != null) {
        if (!given.isNumber() || !(given.doubleValue() >= 0)
            || !Double.isFinite(given.doubleValue())) {
          throw bad(key + ".tolerance", "must be a number >= 0 (0.25 = 25 %), got " + given);
        }
        tolerance = given.doubleValue();
      }
      return new Expectation(worldSize, metric, expected.doubleValue(), parsed, tolerance);
    }
  }
}
