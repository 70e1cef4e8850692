package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.decodefleet.coordinator.metrics.ReportJson;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code coordinator simulate}: its reports say "simulated" everywhere; bad arguments are one line and exit 2. */
class SimulateCommandTest {

  private record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    PrintStream savedOut = System.out;
    PrintStream savedErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = CoordinatorCli.run(args);
      return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(savedOut);
      System.setErr(savedErr);
    }
  }

  @Test
  void aSimulatedSweepWritesTheRunsReportsMarkedSimulated(@TempDir Path dir) throws Exception {
    Result r = run("simulate", "--calibration", "cpu-tiny", "--world-sizes", "1,2,4", "--num-requests", "40",
        "--request-rate", "20", "--seed", "2", "--goodput", "ttft:2000", "--report-dir", dir.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("SIMULATED on "), r.out());
    assertTrue(r.out().contains("measured calibration cpu-tiny"), r.out());
    JsonNode report = ReportJson.read(dir.resolve("report.json"));
    assertTrue(report.get("simulated").asBoolean());
    assertEquals("measured", report.get("simulation").get("kind").asText());
    assertEquals("cpu-tiny", report.get("simulation").get("calibration").asText());
    assertEquals(3, report.get("points").size());
    for (JsonNode p : report.get("points")) {
      assertEquals(40, p.get("completed").asInt());
      assertFalse(p.get("request_goodput").isNull());
    }
    assertEquals(4, Files.readAllLines(dir.resolve("results.csv")).size());
    String html = Files.readString(dir.resolve("report.html"));
    assertTrue(html.contains("<title>SIMULATED"), "the page's title says simulated");
    assertTrue(html.contains("\"simulated\":true"), "the page's data says simulated");
  }

  @Test
  void aProjectionSaysSoOnTheConsoleAndThePage(@TempDir Path dir) throws Exception {
    Result r = run("simulate", "--calibration", "h200-llama3-8b-projection", "--model", "llama3-8b", "--world-size",
        "16", "--num-requests", "200", "--report-dir", dir.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("PROJECTION"), r.out());
    assertTrue(Files.readString(dir.resolve("report.html")).contains("<title>SIMULATED (projection)"));
    assertEquals("projection", ReportJson.read(dir.resolve("report.json")).get("simulation").get("kind").asText());
  }

  @Test
  void aLostAgentIsReportedAndItsRequestsStillComplete(@TempDir Path dir) throws Exception {
    Result r = run("simulate", "--calibration", "cpu-tiny", "--world-size", "4", "--num-requests", "32",
        "--fail-agent", "agent-2@1s", "--failure-detection-ms", "500", "--report-dir", dir.toString(), "--quiet");
    assertEquals(0, r.code(), r.err());
    JsonNode report = ReportJson.read(dir.resolve("report.json"));
    JsonNode point = report.get("points").get(0);
    assertEquals(32, point.get("completed").asInt());
    assertTrue(point.get("migrations").asInt() > 0, point.toString());
    assertEquals(1, point.get("engine").get("agents_lost").asInt());
    assertEquals("agent-2@1.000s", report.get("simulation").get("failures").get(0).asText());
  }

  @Test
  void overLengthTraceRowsAreSkippedByTheRunsRuleAndCounted(@TempDir Path dir) throws Exception {
    Path trace = dir.resolve("mixed.jsonl");
    // Rows 2 (over tiny's context) and 3 (over the simulated KV pool of 8 blocks of 16 tokens) are left out,
    // as the real run leaves them out (CoordinatorCliTest); nothing is cut to fit.
    Files.writeString(trace, "{\"arrival_s\": 0, \"prompt_len\": 20, \"output_len\": 5}\n"
        + "{\"arrival_s\": 0.01, \"prompt_len\": 3000, \"output_len\": 5}\n"
        + "{\"arrival_s\": 0.02, \"prompt_len\": 100, \"output_len\": 50}\n"
        + "{\"arrival_s\": 0.03, \"prompt_len\": 30, \"output_len\": 6}\n");
    Result r = run("simulate", "--calibration", "cpu-tiny", "--trace", trace.toString(), "--on-overlength", "skip",
        "--world-size", "1", "--kv-blocks", "8", "--report-dir", dir.resolve("report").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("--on-overlength skip left out 2 of 4 requests whose prompt plus output exceed the "
        + "128 tokens a sequence may hold in the largest agent's KV pool"), r.out());
    JsonNode report = ReportJson.read(dir.resolve("report").resolve("report.json"));
    assertEquals(2, report.get("settings").get("overlength_skipped").asInt());
    JsonNode point = report.get("points").get(0);
    assertEquals(2, point.get("completed").asInt());
    assertEquals(50, point.get("total_input_tokens").asInt());
    assertEquals(11, point.get("total_output_tokens").asInt());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "--calibration cpu-tiny --prompt-len 2000 --output-len 100 | coordinator simulate: --output-len 100: a "
          + "2000-token prompt plus up to 100 output tokens exceeds model tiny's context of 2048 tokens",
      "--calibration cpu-tiny --kv-blocks 8 --prompt-len 100 --output-len 50 | coordinator simulate: --output-len 50: "
          + "a 100-token prompt plus up to 50 output tokens needs 10 KV blocks of 16 tokens; the largest agent's KV "
          + "pool holds 8",
      "--calibration nope.json                            | coordinator simulate: --calibration no such file nope.json",
      "--calibration h200-llama3-8b-projection            | coordinator simulate: --calibration h200-llama3-8b-projection"
          + " is for model llama3-8b, the run's --model is tiny",
      "--calibration cpu-tiny --fail-agent agent-x@1s     | coordinator simulate: --fail-agent must be AGENT@TIME",
      "--calibration cpu-tiny --backend cpu               | coordinator simulate: --backend does not apply",
      "--calibration cpu-tiny --profile-steps 3           | coordinator simulate: --profile-steps does not apply",
      "--calibration cpu-tiny --quantization fp8          | coordinator simulate: --quantization does not apply",
      "--calibration cpu-tiny --kv-cache-dtype fp8        | coordinator simulate: --kv-cache-dtype does not apply",
      "--calibration cpu-tiny --moe-router topk           | coordinator simulate: --moe-router does not apply to a "
          + "simulation (calibrations time the top-k router)",
      "--calibration cpu-tiny --layout ep=2 --world-size 2 | coordinator simulate: --layout ep=2 needs a mixture of "
          + "experts, and --model tiny has none",
      "--calibration cpu-tiny --model tiny-moe            | coordinator simulate: --calibration cpu-tiny is for model "
          + "tiny, the run's --model is tiny-moe",
      "--calibration cpu-tiny --world-size 2 --fail-agent agent-5@1s | coordinator simulate: --fail-agent agent-5@1.000s:"
          + " the fleet of 2 GPUs has agents agent-0 to agent-1",
      "--calibration cpu-tiny --layout disagg=1:1 --world-size 2 | coordinator simulate: --layout disagg=1:1 needs the"
          + " calibration's kv_transfer term",
      "--calibration cpu-tiny --world-sizes 4,4          | coordinator simulate: --world-sizes lists 4 twice",
      "--calibration cpu-tiny --compare-real --real-runs 0 | coordinator simulate: --real-runs must be >= 1, got 0",
      "--calibration cpu-tiny --real-runs 2              | coordinator simulate: --real-runs counts the real runs of "
          + "--compare-real",
      "--calibration cpu-tiny --scale-to-host            | coordinator simulate: --scale-to-host scales a calibration to"
          + " the host that --compare-real runs on",
      "--calibration h100-llama3-8b --model llama3-8b --compare-real --scale-to-host | coordinator simulate: "
          + "--scale-to-host needs a CPU calibration",
      "--world-size 2                                     | coordinator: Missing required option: '--calibration"})
  void badArgumentsAreOneLineAndExit2(String args, String expected) {
    List<String> argv = new java.util.ArrayList<>(List.of("simulate"));
    argv.addAll(List.of(args.trim().split("\\s+")));
    Result r = run(argv.toArray(String[]::new));
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().startsWith(expected), r.err());
  }
}
