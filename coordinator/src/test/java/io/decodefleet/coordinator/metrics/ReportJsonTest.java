package io.decodefleet.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** report.json of a one-point run: the result's values, the settings as given, and the typed sections' shape. */
class ReportJsonTest {

  @TempDir Path dir;

  /** The three-request run of {@link MetricsRecorderTest} as a one-point report, with the given engine totals. */
  static SweepReport sampleReport(EngineTotals engine, VerificationSummary verification) {
    MetricsRecorder m = MetricsRecorderTest.threeRequestRun();
    BenchmarkResult result = m.summarize(MetricsRecorderTest.ms(0), MetricsRecorderTest.ms(2000));
    ObjectNode settings = JsonNodeFactory.instance.objectNode();
    settings.put("world_size", 2);
    settings.put("model", "tiny-llama");
    settings.put("backend", "cuda");
    settings.put("placement", "round-robin");
    settings.put("seed", 42);
    settings.put("verify_fraction", Double.NaN);
    return new SweepReport("decodefleet bench --requests 3", settings, Map.of(), "2x NVIDIA H100", "cuda",
        "tiny-llama", "2025-06-01T12:00:00Z", null,
        List.of(SweepPoint.of(2, result, m.requests(), engine, verification, null)));
  }

  /** Engine totals with every section filled: two batch buckets, two paths, KV transfers. */
  static EngineTotals fullEngine() {
    KvTransferSummary kv = new KvTransferSummary("disagg=1:1", "eager", "ready", 2, 2048, 1024, 0.25, 0.25, 0.3,
        0.3, 8.192, 0.2, null, 3.5, 3.5, 4.0, 0, 2, 0, 0, null, null, "time");
    return new EngineTotals(40, 640, 1.5, 3,
        List.of(new EngineTotals.BatchBucketSteps(1, 10, 1.25), new EngineTotals.BatchBucketSteps(8, 30, 1.75)),
        Map.of("graph", 30L, "eager", 10L), 120.0, 80.5, null, 1, 2, 1, 1, kv);
  }

  private JsonNode written(SweepReport report) throws IOException {
    Path file = dir.resolve("out/report.json");
    ReportJson.write(report, file);
    return ReportJson.read(file);
  }

  @Test
  void writtenReportReadsBackWithTheBenchmarkResultValues() throws IOException {
    SweepReport report = sampleReport(null, null);
    JsonNode json = written(report).get("points").get(0);
    BenchmarkResult r = report.points().get(0).result();

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
    JsonNode json = written(sampleReport(null, new VerificationSummary(true, 3, 0, 0, 1e-3, List.of())));
    assertEquals("decodefleet bench --requests 3", json.get("command").textValue());
    assertEquals("2x NVIDIA H100", json.get("hardware").textValue());
    assertEquals("cuda", json.get("backend").textValue());
    assertEquals("tiny-llama", json.get("model").textValue());
    assertEquals(2, json.get("points").get(0).get("world_size").intValue());
    assertEquals("2025-06-01T12:00:00Z", json.get("started_at").textValue());
    assertTrue(json.get("points").get(0).get("verification").get("passed").booleanValue());
    assertEquals(List.of("world_size", "model", "backend", "placement", "seed", "verify_fraction"),
        keys(json.get("settings")));
  }

  @Test
  void nonFiniteNumbersAreWrittenAsNullAndMissingVerificationAsNull() throws IOException {
    Path file = dir.resolve("report.json");
    ReportJson.write(sampleReport(fullEngine(), null), file);
    String text = Files.readString(file);
    assertFalse(text.contains("NaN"), text);
    assertFalse(text.contains("Infinity"), text);
    JsonNode json = ReportJson.read(file);
    assertTrue(json.get("settings").get("verify_fraction").isNull());
    JsonNode point = json.get("points").get(0);
    assertTrue(point.get("engine").get("mean_gpu_idle_gap_us").isNull(), "not measured");
    assertTrue(point.get("engine").get("kv_transfers").get("mean_receive_ms").isNull(), "no sample");
    assertTrue(point.has("verification"));
    assertTrue(point.get("verification").isNull());
  }

  @Test
  void engineKvTransfersAndVerificationKeepReportJsonsFieldNamesAndOrder() throws IOException {
    JsonNode point = written(sampleReport(fullEngine(),
        new VerificationSummary(false, 4, 1, 0.5, 1e-3, List.of("request 3: logits differ")))).get("points").get(0);
    JsonNode engine = point.get("engine");
    assertEquals(List.of("reported_steps", "scheduled_tokens", "mean_step_ms", "preemptions", "step_time_by_batch",
        "steps_by_path", "mean_host_us_per_step", "mean_gpu_us_per_step", "mean_gpu_idle_gap_us", "agents_lost",
        "migrations", "kv_migrations", "reprefill_migrations", "kv_transfers"), keys(engine));
    assertEquals(List.of("batch_bucket", "steps", "mean_step_ms"), keys(engine.get("step_time_by_batch").get(1)));
    assertEquals(8, engine.get("step_time_by_batch").get(1).get("batch_bucket").intValue());
    assertEquals(1.75, engine.get("step_time_by_batch").get(1).get("mean_step_ms").doubleValue());
    assertEquals(List.of("eager", "graph"), keys(engine.get("steps_by_path")), "paths by name");
    assertEquals(80.5, engine.get("mean_gpu_us_per_step").doubleValue());
    assertEquals(List.of("layout", "mode", "group", "count", "bytes", "mean_bytes", "mean_ms", "p50_ms", "p99_ms",
        "max_ms", "gb_per_s", "mean_send_ms", "mean_receive_ms", "mean_handoff_ms", "p50_handoff_ms",
        "p99_handoff_ms", "recomputed", "handoffs", "migrations", "migration_bytes", "mean_migration_ms",
        "mean_migration_wait_ms", "time_is"), keys(engine.get("kv_transfers")));
    assertEquals(8.192, engine.get("kv_transfers").get("gb_per_s").doubleValue());
    JsonNode verification = point.get("verification");
    assertEquals(List.of("passed", "sequences_checked", "failures", "max_rel_error", "tolerance",
        "failure_details"), keys(verification));
    assertFalse(verification.get("passed").booleanValue());
    assertEquals("request 3: logits differ", verification.get("failure_details").get(0).textValue());
  }

  @Test
  void engineWithoutKvTransfersHasNoKvTransfersKeyAndNoEngineIsAnEmptyObject() throws IOException {
    EngineTotals full = fullEngine();
    EngineTotals noKv = new EngineTotals(full.reportedSteps(), full.scheduledTokens(), full.meanStepMs(),
        full.preemptions(), full.stepTimeByBatch(), full.stepsByPath(), full.meanHostUsPerStep(),
        full.meanGpuUsPerStep(), full.meanGpuIdleGapUs(), full.agentsLost(), full.migrations(), full.kvMigrations(),
        full.reprefillMigrations(), null);
    assertFalse(written(sampleReport(noKv, null)).get("points").get(0).get("engine").has("kv_transfers"));
    JsonNode none = written(sampleReport(null, null)).get("points").get(0).get("engine");
    assertTrue(none.isObject() && none.isEmpty(), none.toString());
  }

  @Test
  void thePrefixCacheSectionCountsHitsAndAdmissionsDeferredForAPrefixInFlight() throws IOException {
    EngineTotals full = fullEngine();
    EngineTotals cached = new EngineTotals(full.reportedSteps(), full.scheduledTokens(), full.meanStepMs(),
        full.preemptions(), full.stepTimeByBatch(), full.stepsByPath(), full.meanHostUsPerStep(),
        full.meanGpuUsPerStep(), full.meanGpuIdleGapUs(), full.agentsLost(), full.migrations(), full.kvMigrations(),
        full.reprefillMigrations(), null, 1000, 600, null, 7);
    JsonNode prefix = written(sampleReport(cached, null)).get("points").get(0).get("engine").get("prefix_cache");
    assertEquals(1000, prefix.get("queried_tokens").asLong());
    assertEquals(600, prefix.get("hit_tokens").asLong());
    assertEquals(0.6, prefix.get("hit_rate").asDouble(), 1e-12);
    assertEquals(7, prefix.get("deferred_admissions").asLong());
  }

  private static List<String> keys(JsonNode node) {
    List<String> keys = new ArrayList<>();
    node.fieldNames().forEachRemaining(keys::add);
    return keys;
  }

  @Test
  void percentileFlagsChooseTheKeysAsVllmNamesThem() throws IOException {
    PercentileSpec spec = PercentileSpec.parse("e2el,ttft", "50,99.9");
    JsonNode root = written(sampleReport(null, null).withPercentiles(spec));
    JsonNode json = root.get("points").get(0);

    assertEquals("{\"metrics\":[\"ttft\",\"e2el\"],\"percentiles\":[50.0,99.9]}", root.get("percentiles").toString());
    for (String metric : PercentileSpec.METRICS) {
      assertTrue(json.has("mean_" + metric + "_ms"), metric);
      assertTrue(json.has("std_" + metric + "_ms"), metric);
      assertTrue(json.has("median_" + metric + "_ms"), metric);
      assertFalse(json.has("p90_" + metric + "_ms"), metric);
      assertEquals(spec.covers(metric), json.has("p99.9_" + metric + "_ms"), metric);
      assertEquals(spec.covers(metric), json.has("p50_" + metric + "_ms"), metric);
    }
    // r1 E2E 35, r2 E2E 20 (r3 failed): p50 27.5, p99.9 = 20 + 15 * 0.999
    assertEquals(27.5, json.get("p50_e2el_ms").doubleValue(), 1e-9);
    assertEquals(34.985, json.get("p99.9_e2el_ms").doubleValue(), 1e-9);
    assertEquals(7.5, json.get("std_e2el_ms").doubleValue(), 1e-9);
  }

  private static void assertLatency(JsonNode json, String metric, LatencyStats s) {
    assertEquals(s.mean(), json.get("mean_" + metric + "_ms").doubleValue(), metric);
    assertEquals(s.std(), json.get("std_" + metric + "_ms").doubleValue(), metric);
    assertEquals(s.median(), json.get("median_" + metric + "_ms").doubleValue(), metric);
    assertEquals(s.p90(), json.get("p90_" + metric + "_ms").doubleValue(), metric);
    assertEquals(s.p99(), json.get("p99_" + metric + "_ms").doubleValue(), metric);
    assertEquals(s.min(), json.get("min_" + metric + "_ms").doubleValue(), metric);
    assertEquals(s.max(), json.get("max_" + metric + "_ms").doubleValue(), metric);
    assertEquals(s.count(), json.get(metric + "_count").intValue(), metric);
  }
}
