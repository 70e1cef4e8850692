package io.decodefleet.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportJsonTest {

  @TempDir Path dir;

  /** The three-request run of {@link MetricsRecorderTest}, wrapped in a report. */
  static RunReport sampleReport(Map<String, Object> verification) {
    BenchmarkResult result = MetricsRecorderTest.threeRequestRun()
        .summarize(MetricsRecorderTest.ms(0), MetricsRecorderTest.ms(2000));
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("world_size", 2);
    settings.put("model", "tiny-llama");
    settings.put("backend", "cuda");
    settings.put("placement", "round-robin");
    settings.put("seed", 42);
    Map<String, Object> engine = new LinkedHashMap<>();
    engine.put("kv_cache_blocks", 1024);
    engine.put("acceptance_rate", Double.NaN);
    engine.put("step_ms", List.of(1.5, Double.POSITIVE_INFINITY));
    return new RunReport("decodefleet bench --requests 3", settings, "2x NVIDIA H100", "cuda",
        "tiny-llama", 2, result, engine, verification, "2025-06-01T12:00:00Z");
  }

  @Test
  void writtenReportReadsBackWithTheBenchmarkResultValues() throws IOException {
    RunReport report = sampleReport(null);
    Path file = dir.resolve("out/report.json");
    ReportJson.write(report, file);
    JsonNode json = ReportJson.read(file);
    BenchmarkResult r = report.result();

    assertEquals(r.completed(), json.get("completed").intValue());
    assertEquals(r.failed(), json.get("failed").intValue());
    assertEquals(r.durationSeconds(), json.get("duration").doubleValue());
    assertEquals(r.totalInputTokens(), json.get("total_input_tokens").longValue());
    assertEquals(r.totalOutputTokens(), json.get("total_output_tokens").longValue());
    assertEquals(r.requestThroughput(), json.get("request_throughput").doubleValue());
    assertEquals(r.outputTokenThroughput(), json.get("output_throughput").doubleValue());
    assertEquals(r.totalTokenThroughput(), json.get("total_token_throughput").doubleValue());
    assertLatency(json, "ttft", r.ttftMs());
    assertLatency(json, "tpot", r.tpotMs());
    assertLatency(json, "itl", r.itlMs());
    assertLatency(json, "e2el", r.e2eMs());
    assertEquals(r.migrations(), json.get("migrations").intValue());

    List<AgentStats> agents = new ArrayList<>();
    for (JsonNode a : json.get("agents")) {
      agents.add(new AgentStats(a.get("agent_id").textValue(), a.get("requests").intValue(),
          a.get("output_tokens").longValue()));
    }
    assertEquals(r.agents(), agents);
  }

  @Test
  void topLevelFieldsAndSettingsOrderArePreserved() throws IOException {
    Path file = dir.resolve("report.json");
    ReportJson.write(sampleReport(Map.of("passed", true)), file);
    JsonNode json = ReportJson.read(file);
    assertEquals("decodefleet bench --requests 3", json.get("command").textValue());
    assertEquals("2x NVIDIA H100", json.get("hardware").textValue());
    assertEquals("cuda", json.get("backend").textValue());
    assertEquals("tiny-llama", json.get("model").textValue());
    assertEquals(2, json.get("world_size").intValue());
    assertEquals("2025-06-01T12:00:00Z", json.get("started_at").textValue());
    assertTrue(json.get("verification").get("passed").booleanValue());
    List<String> keys = new ArrayList<>();
    json.get("settings").fieldNames().forEachRemaining(keys::add);
    assertEquals(List.of("world_size", "model", "backend", "placement", "seed"), keys);
  }

  @Test
  void nonFiniteNumbersAreWrittenAsNullAndMissingVerificationAsNull() throws IOException {
    Path file = dir.resolve("report.json");
    ReportJson.write(sampleReport(null), file);
    String text = Files.readString(file);
    assertFalse(text.contains("NaN"), text);
    assertFalse(text.contains("Infinity"), text);
    JsonNode json = ReportJson.read(file);
    assertTrue(json.get("engine").get("acceptance_rate").isNull());
    assertEquals(1.5, json.get("engine").get("step_ms").get(0).doubleValue());
    assertTrue(json.get("engine").get("step_ms").get(1).isNull());
    assertEquals(1024, json.get("engine").get("kv_cache_blocks").intValue());
    assertTrue(json.has("verification"));
    assertTrue(json.get("verification").isNull());
  }

  private static void assertLatency(JsonNode json, String metric, LatencyStats s) {
    assertEquals(s.mean(), json.get("mean_" + metric + "_ms").doubleValue(), metric);
    assertEquals(s.median(), json.get("median_" + metric + "_ms").doubleValue(), metric);
    assertEquals(s.p90(), json.get("p90_" + metric + "_ms").doubleValue(), metric);
    assertEquals(s.p99(), json.get("p99_" + metric + "_ms").doubleValue(), metric);
    assertEquals(s.min(), json.get("min_" + metric + "_ms").doubleValue(), metric);
    assertEquals(s.max(), json.get("max_" + metric + "_ms").doubleValue(), metric);
    assertEquals(s.count(), json.get(metric + "_count").intValue(), metric);
  }
}
