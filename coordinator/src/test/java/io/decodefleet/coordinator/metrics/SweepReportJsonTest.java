package io.decodefleet.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepReportJsonTest {

  @TempDir Path dir;

  private JsonNode written(SweepReport report) throws IOException {
    Path file = dir.resolve("report.json");
    ReportJson.write(report, file);
    String text = Files.readString(file);
    assertFalse(text.contains("NaN"), text);
    assertFalse(text.contains("Infinity"), text);
    return ReportJson.read(file);
  }

  @Test
  void topLevelFieldsThenOnePointPerWorldSize() throws IOException {
    SweepReport report = SweepFixture.sweep(SloSpec.parse(List.of("ttft:100", "tpot:10")), 4, 1, 2);
    JsonNode json = written(report);
    assertEquals(List.of("command", "started_at", "hardware", "backend", "model", "versions",
        "settings", "goodput", "sweep", "percentiles", "points"), keys(json));
    assertEquals("world_size", json.get("sweep").get("axis").textValue());
    assertEquals("[1,2,4]", json.get("sweep").get("values").toString());
    assertEquals("cpu", json.get("backend").textValue());
    assertEquals("0.1.0-test", json.get("versions").get("decodefleet").textValue());
    assertEquals(100.0, json.get("goodput").get("ttft").doubleValue());
    assertEquals(10.0, json.get("goodput").get("tpot").doubleValue());
    assertEquals(3, json.get("points").size());
    List<Integer> sizes = new ArrayList<>();
    json.get("points").forEach(p -> sizes.add(p.get("world_size").intValue()));
    assertEquals(List.of(1, 2, 4), sizes);
  }

  @Test
  void pointHasVllmKeysWithTheResultsValues() throws IOException {
    SweepReport report = SweepFixture.sweep(SloSpec.parse(List.of("e2el:150")), 1, 4);
    JsonNode point = written(report).get("points").get(1);
    BenchmarkResult r = report.point(4).orElseThrow().result();
    assertEquals(4, point.get("world_size").intValue());
    assertEquals(report.point(4).orElseThrow().scalingEfficiency(),
        point.get("scaling_efficiency").doubleValue());
    assertEquals(r.completed(), point.get("completed").intValue());
    assertEquals(1, point.get("failed").intValue());
    assertEquals(r.durationSeconds(), point.get("duration").doubleValue());
    assertEquals(r.totalOutputTokens(), point.get("total_output_tokens").longValue());
    assertEquals(r.requestThroughput(), point.get("request_throughput").doubleValue());
    assertEquals(r.requestGoodput(), point.get("request_goodput").doubleValue());
    assertTrue(r.requestGoodput() > 0 && r.requestGoodput() < r.requestThroughput());
    assertEquals(r.outputTokenThroughput(), point.get("output_throughput").doubleValue());
    assertEquals(r.ttftMs().p99(), point.get("p99_ttft_ms").doubleValue());
    assertEquals(r.tpotMs().median(), point.get("median_tpot_ms").doubleValue());
    assertEquals(r.itlMs().mean(), point.get("mean_itl_ms").doubleValue());
    assertEquals(r.e2eMs().p90(), point.get("p90_e2el_ms").doubleValue());
    assertTrue(point.get("verification").get("passed").booleanValue());
    assertTrue(point.get("engine").get("mean_gpu_us_per_step").isNull(), "not measured: null");
  }

  @Test
  void withoutSlosGoodputIsNullEverywhere() throws IOException {
    JsonNode json = written(SweepFixture.sweep(null, 1));
    assertTrue(json.get("goodput").isNull());
    JsonNode point = json.get("points").get(0);
    assertTrue(point.has("request_goodput"));
    assertTrue(point.get("request_goodput").isNull());
    assertTrue(point.get("verification").isNull());
  }

  @Test
  void agentsMergeTheirDescriptionWithTheirCounts() throws IOException {
    SweepReport report = SweepFixture.sweep(null, 4);
    JsonNode agents = written(report).get("points").get(0).get("agents");
    List<AgentStats> stats = report.points().get(0).result().agents();
    assertEquals(4, agents.size());
    for (int i = 0; i < 4; i++) {
      JsonNode agent = agents.get(i);
      assertEquals(List.of("agent_id", "requests", "output_tokens", "device", "backend", "node", "alive", "kv_blocks",
          "block_size"), keys(agent));
      assertEquals(stats.get(i).agentId(), agent.get("agent_id").textValue());
      assertEquals(stats.get(i).requests(), agent.get("requests").intValue());
      assertEquals(stats.get(i).outputTokens(), agent.get("output_tokens").longValue());
      assertEquals("cpu:" + i, agent.get("device").textValue());
    }
  }

  @Test
  void anAgentThatProducedNothingStillAppearsWithZeroCounts() throws IOException {
    SweepPoint p = SweepFixture.point(2);
    List<AgentDescription> agents = new ArrayList<>(p.agents());
    agents.add(new AgentDescription("agent-10", "cpu:10", "cpu", "node", true, 512, 16, ""));
    SweepReport report = new SweepReport("cmd", null, null, "hw", "cpu", "tiny", "t", null,
        List.of(SweepPoint.of(2, p.result(), p.requests(), p.engine(), null, agents)));
    JsonNode json = written(report).get("points").get(0).get("agents");
    JsonNode last = json.get(json.size() - 1);
    assertEquals("agent-10", last.get("agent_id").textValue()); // natural order: after agent-1
    assertEquals(0, last.get("requests").intValue());
    assertEquals(0, last.get("output_tokens").intValue());
  }

  @Test
  void whatAnAgentsBackendChoseAtLoadIsWrittenWhereItSaidSomething() throws IOException {
    SweepPoint p = SweepFixture.point(1);
    List<AgentDescription> agents = List.of(new AgentDescription("agent-0", "GPU 0", "cuda", "node", true, 900, 16,
        "GPU 0 (NVIDIA H200): GEMM dispatch: cuBLASLt 117 of 117 shapes, ours 0"));
    SweepReport report = new SweepReport("cmd", null, null, "hw", "cuda", "llama3-8b", "t", null,
        List.of(SweepPoint.of(1, p.result(), p.requests(), p.engine(), null, agents)));
    JsonNode agent = written(report).get("points").get(0).get("agents").get(0);
    assertEquals("GPU 0 (NVIDIA H200): GEMM dispatch: cuBLASLt 117 of 117 shapes, ours 0", agent.get("load").textValue());
    JsonNode cpu = written(SweepFixture.sweep(null, 1)).get("points").get(0).get("agents").get(0);
    assertFalse(cpu.has("load"), "a backend that said nothing gets no field");
  }

  private static List<String> keys(JsonNode node) {
    List<String> keys = new ArrayList<>();
    node.fieldNames().forEachRemaining(keys::add);
    return keys;
  }
}
