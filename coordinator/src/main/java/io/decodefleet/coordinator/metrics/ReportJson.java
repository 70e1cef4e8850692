package io.decodefleet.coordinator.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes and reads report.json. The metrics are laid out flat, with the key names of {@code vllm
 * bench serve --save-result} ("completed", "duration" in seconds, "request_throughput",
 * "request_goodput", "output_throughput", "mean_ttft_ms", "p99_itl_ms", ...), so tools written for
 * vLLM's result files read ours. Beyond vLLM's keys each latency also has "min_*_ms", "max_*_ms"
 * and a sample count ("ttft_count", ...), and there are "agents" and "migrations".
 *
 * <p>A {@link SweepReport} is written as its top-level fields ("command", "started_at",
 * "hardware", "backend", "model", "versions", "settings", "goodput") and a "points" array, one
 * flat object per world size that also has "world_size" and "scaling_efficiency" (see {@link
 * #pointJson}). "request_goodput" is present in every point, null without SLOs, as vLLM writes it.
 *
 * <p>JSON has no NaN or infinity; non-finite numbers, including any inside the caller's maps, are
 * written as null.
 */
public final class ReportJson {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private ReportJson() {}

  /** Writes {@code report} as pretty-printed UTF-8 JSON, creating parent directories. */
  public static void write(RunReport report, Path file) throws IOException {
    writeTree(toJson(report), file);
  }

  /** Writes {@code report} as pretty-printed UTF-8 JSON, creating parent directories. */
  public static void write(SweepReport report, Path file) throws IOException {
    writeTree(toJson(report), file);
  }

  private static void writeTree(JsonNode tree, Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    String json = MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(tree);
    Files.writeString(file, json + "\n", StandardCharsets.UTF_8);
  }

  /** Reads a report written by {@link #write} (or any JSON file) as a tree. */
  public static JsonNode read(Path file) throws IOException {
    return MAPPER.readTree(file.toFile());
  }

  /** The report as a JSON tree, in the field order of the file. */
  static ObjectNode toJson(RunReport report) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("command", report.command());
    root.put("started_at", report.startedAt());
    root.put("hardware", report.hardware());
    root.put("backend", report.backend());
    root.put("model", report.model());
    root.put("world_size", report.worldSize());
    root.set("settings", tree(report.settings()));

    BenchmarkResult r = report.result();
    metrics(root, r, r.hasGoodput());
    agents(root, r, List.of());
    root.put("migrations", r.migrations());
    root.set("engine", tree(report.engine()));
    root.set("verification", verification(report.verification()));
    return root;
  }

  /** The sweep report as a JSON tree, in the field order of the file. */
  public static ObjectNode toJson(SweepReport report) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("command", report.command());
    root.put("started_at", report.startedAt());
    root.put("hardware", report.hardware());
    root.put("backend", report.backend());
    root.put("model", report.model());
    root.set("versions", MAPPER.valueToTree(report.versions()));
    root.set("settings", tree(report.settings()));
    if (report.goodput() == null) {
      root.putNull("goodput");
    } else {
      ObjectNode slos = root.putObject("goodput");
      report.goodput().limitsMs().forEach((metric, ms) -> number(slos, metric, ms));
    }
    ArrayNode points = root.putArray("points");
    for (SweepPoint point : report.points()) {
      points.add(pointJson(point));
    }
    return root;
  }

  /**
   * One sweep point, flat: "world_size", "scaling_efficiency", vLLM's result keys (with
   * "request_goodput", null without SLOs), the latency keys, then "agents" (each agent's
   * description merged with its request and token counts), "migrations", "engine" and
   * "verification". Expectations files ({@code io.decodefleet.coordinator.report.Expectations})
   * name metrics by these keys.
   */
  public static ObjectNode pointJson(SweepPoint point) {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("world_size", point.worldSize());
    number(node, "scaling_efficiency", point.scalingEfficiency());
    BenchmarkResult r = point.result();
    metrics(node, r, true);
    agents(node, r, point.agents());
    node.put("migrations", r.migrations());
    node.set("engine", tree(point.engine()));
    node.set("verification", verification(point.verification()));
    return node;
  }

  /** vLLM's flat result keys; "request_goodput" only when {@code withGoodput}. */
  private static void metrics(ObjectNode node, BenchmarkResult r, boolean withGoodput) {
    node.put("completed", r.completed());
    node.put("failed", r.failed());
    number(node, "duration", r.durationSeconds());
    node.put("total_input_tokens", r.totalInputTokens());
    node.put("total_output_tokens", r.totalOutputTokens());
    number(node, "request_throughput", r.requestThroughput());
    if (withGoodput) {
      number(node, "request_goodput", r.requestGoodput());
    }
    number(node, "output_throughput", r.outputTokenThroughput());
    number(node, "total_token_throughput", r.totalTokenThroughput());
    latency(node, "ttft", r.ttftMs());
    latency(node, "tpot", r.tpotMs());
    latency(node, "itl", r.itlMs());
    latency(node, "e2el", r.e2eMs());
  }

  /**
   * "agents": one object per agent in natural id order: "agent_id", "requests", "output_tokens"
   * from the result, then the rest of the agent's description from {@code described} (matched by
   * its "agent_id"). An agent known from one side only still appears, with zero counts when it
   * produced nothing; descriptions without an "agent_id" follow as given.
   */
  private static void agents(
      ObjectNode node, BenchmarkResult r, List<Map<String, Object>> described) {
    Map<String, Map<String, Object>> byId = new TreeMap<>(AgentOrder.INSTANCE);
    List<Map<String, Object>> anonymous = new ArrayList<>();
    for (AgentStats stats : r.agents()) {
      byId.put(stats.agentId(), counts(stats.requests(), stats.outputTokens()));
    }
    for (Map<String, Object> description : described) {
      if (!(description.get("agent_id") instanceof String id)) {
        anonymous.add(description);
        continue;
      }
      Map<String, Object> entry = byId.computeIfAbsent(id, ignored -> counts(0, 0));
      description.forEach((key, value) -> {
        if (!key.equals("agent_id")) {
          entry.putIfAbsent(key, value);
        }
      });
    }
    ArrayNode agents = node.putArray("agents");
    byId.forEach((id, entry) -> {
      Map<String, Object> withId = new LinkedHashMap<>();
      withId.put("agent_id", id);
      withId.putAll(entry);
      agents.add(tree(withId));
    });
    anonymous.forEach(description -> agents.add(tree(description)));
  }

  private static Map<String, Object> counts(int requests, long outputTokens) {
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("requests", requests);
    entry.put("output_tokens", outputTokens);
    return entry;
  }

  private static JsonNode verification(Map<String, Object> verification) {
    return verification == null ? NullNode.getInstance() : tree(verification);
  }

  /** vLLM's "mean_ttft_ms" style keys, plus min/max and the sample count. */
  private static void latency(ObjectNode root, String metric, LatencyStats stats) {
    number(root, "mean_" + metric + "_ms", stats.mean());
    number(root, "median_" + metric + "_ms", stats.median());
    number(root, "p90_" + metric + "_ms", stats.p90());
    number(root, "p99_" + metric + "_ms", stats.p99());
    number(root, "min_" + metric + "_ms", stats.min());
    number(root, "max_" + metric + "_ms", stats.max());
    root.put(metric + "_count", stats.count());
  }

  private static void number(ObjectNode node, String key, double value) {
    if (Double.isFinite(value)) {
      node.put(key, value);
    } else {
      node.putNull(key);
    }
  }

  /** Converts a caller's free-form map to a tree with every non-finite number made null. */
  private static JsonNode tree(Map<String, Object> map) {
    return withoutNonFinite(MAPPER.valueToTree(map));
  }

  private static JsonNode withoutNonFinite(JsonNode node) {
    if (node.isFloatingPointNumber() && !Double.isFinite(node.doubleValue())) {
      return NullNode.getInstance();
    }
    if (node instanceof ObjectNode object) {
      // Copy first: replacing values while iterating the live view is not promised to work.
      for (Map.Entry<String, JsonNode> field : new ArrayList<>(object.properties())) {
        object.set(field.getKey(), withoutNonFinite(field.getValue()));
      }
    } else if (node instanceof ArrayNode array) {
      for (int i = 0; i < array.size(); i++) {
        array.set(i, withoutNonFinite(array.get(i)));
      }
    }
    return node;
  }
}
