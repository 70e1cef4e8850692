package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.agent.engine.CheckpointExport;
import io.decodefleet.agent.engine.HostWeights;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.coordinator.metrics.ReportJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code coordinator --model DIR}: a checkpoint directory instead of a preset, and its refusals. */
class CheckpointCliTest {

  @TempDir
  Path tmp;

  private Path tinyCheckpoint(CheckpointExport.Dtype dtype) throws IOException {
    Path dir = tmp.resolve("tiny-" + dtype);
    CheckpointExport.write(new HostWeights(ModelLoad.dummy(ModelConfig.preset("tiny"), 0)), dtype, 2, dir);
    return dir;
  }

  private record Result(int code, String out, String err) {}

  /** The CLI in a fresh JVM, as a user runs it. */
  private static Result runProcess(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), CoordinatorCli.class.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Result(p.waitFor(), out, err);
  }

  @Test
  void aBenchmarkRunsOnACheckpointDirectoryAndPassesTheRecomputeCheck() throws Exception {
    Path dir = tinyCheckpoint(CheckpointExport.Dtype.BFLOAT16);
    Path reports = tmp.resolve("reports");
    int code = CoordinatorCli.run("--world-size", "2", "--model", dir.toString(), "--num-requests", "6",
        "--prompt-len", "8:40", "--output-len", "4:9", "--report-dir", reports.toString(), "--verify", "--quiet");
    assertEquals(0, code);
    JsonNode report = ReportJson.read(reports.resolve("report.json"));
    assertEquals(dir.toAbsolutePath().toString(), report.get("model").asText());
    JsonNode point = report.get("points").get(0);
    assertEquals(6, point.get("completed").asInt());
    assertTrue(point.get("verification").get("passed").asBoolean());
  }

  @Test
  void fp8WeightsAndAnFp8KvCacheRunOnCpuAgentsAndPassTheirRecomputeCheck() throws Exception {
    Path reports = tmp.resolve("fp8");
    int code = CoordinatorCli.run("--world-size", "1", "--model", tinyCheckpoint(CheckpointExport.Dtype.FP8)
        .toString(), "--kv-cache-dtype", "fp8", "--num-requests", "4", "--prompt-len", "8:24", "--output-len", "4:8",
        "--backend", "cpu", "--report-dir", reports.toString(), "--verify", "--quiet");
    assertEquals(0, code);
    JsonNode point = ReportJson.read(reports.resolve("report.json")).get("points").get(0);
    assertEquals(4, point.get("completed").asInt());
    assertTrue(point.get("verification").get("passed").asBoolean());
  }

  @Test
  void aBadCheckpointStopsTheCommandWithOneLineNamingTheFileAndTensor() throws Exception {
    Path dir = tinyCheckpoint(CheckpointExport.Dtype.BFLOAT16);
    ObjectMapper json = new ObjectMapper();
    ObjectNode config = (ObjectNode) json.readTree(dir.resolve("config.json").toFile());
    config.put("num_key_value_heads", 4);
    Files.write(dir.resolve("config.json"), json.writeValueAsBytes(config));

    Result r = runProcess("--world-size", "1", "--model", dir.toString());

    assertEquals(2, r.code(), r.err());
    List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
    assertEquals(List.of("coordinator: --model: " + dir.resolve("model-00001-of-00002.safetensors")
        + ": tensor 'model.layers.0.self_attn.k_proj.weight': shape [64, 128] but config.json gives [128, 128]"),
        lines);
    assertEquals("", r.out());
  }

  @Test
  void aDirectoryWithoutAConfigIsRefused() throws Exception {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    Result r = runProcess("--world-size", "1", "--model", empty.toString());
    assertEquals(2, r.code(), r.err());
    assertEquals(List.of("coordinator: --model: " + empty.resolve("config.json") + ": no such file"),
        r.err().lines().filter(l -> !l.isBlank()).toList());
  }

  @Test
  void aRelativeDirectoryReachesAgentsAsAnAbsolutePathAndServesUnderIt() throws Exception {
    Path dir = tinyCheckpoint(CheckpointExport.Dtype.BFLOAT16);
    EngineOptions engine = new EngineOptions();
    engine.model = Path.of("").toAbsolutePath().relativize(dir).toString();
    assertEquals(dir.toAbsolutePath().normalize().toString(), engine.spec(0, 0.0).model());
    ServedText text = ServedText.load(engine.spec(0, 0.0), null, null, null, 16);
    assertEquals(dir.toString(), text.limits().model(), "/v1/models lists the directory unless renamed");
    assertEquals("m", ServedText.load(engine.spec(0, 0.0), null, null, "m", 16).limits().model());
  }
}
