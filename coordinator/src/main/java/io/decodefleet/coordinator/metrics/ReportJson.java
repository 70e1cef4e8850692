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
import java.util.Map;

/**
 * Writes and reads report.json. The metrics are laid out flat, with the key names of {@code vllm
 * bench serve --save-result} ("completed", "duration" in seconds, "request_throughput",
 * "output_throughput", "mean_ttft_ms", "p99_itl_ms", ...), so tools written for vLLM's result
 * files read ours. Beyond vLLM's keys each latency also has "min_*_ms", "max_*_ms" and a sample
 * count ("ttft_count", ...), and there are "agents" and "migrations".
 *
 * <p>JSON has no NaN or infinity; non-finite numbers, including any inside the caller's maps, are
 * written as null.
 */
public final class ReportJson {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private ReportJson() {}

  /** Writes {@code report} as pretty-printed UTF-8 JSON, creating parent directories. */
  public static void write(RunReport report, Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    String json = MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(toJson(report));
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
    root.put("completed", r.completed());
    root.put("failed", r.failed());
    number(root, "duration", r.durationSeconds());
    root.put("total_input_tokens", r.totalInputTokens());
    root.put("total_output_tokens", r.totalOutputTokens());
    number(root, "request_throughput", r.requestThroughput());
    number(root, "output_throughput", r.outputTokenThroughput());
    number(root, "total_token_throughput", r.totalTokenThroughput());
    latency(root, "ttft", r.ttftMs());
    latency(root, "tpot", r.tpotMs());
    latency(root, "itl", r.itlMs());
    latency(root, "e2el", r.e2eMs());

    ArrayNode agents = root.putArray("agents");
    for (AgentStats agent : r.agents()) {
      ObjectNode node = agents.addObject();
      node.put("agent_id", agent.agentId());
      node.put("requests", agent.requests());
      node.put("output_tokens", agent.outputTokens());
    }
    root.put("migrations", r.migrations());

    root.set("engine", tree(report.engine()));
    root.set("verification", report.verification() == null
        ? NullNode.getInstance()
        : tree(report.verification()));
    return root;
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
