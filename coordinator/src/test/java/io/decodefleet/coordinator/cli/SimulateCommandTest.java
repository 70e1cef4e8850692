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

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "--calibration nope.json                            | coordinator simulate: --calibration no such file nope.json",
      "--calibration h200-llama3-8b-projection            | coordinator simulate: --calibration h200-llama3-8b-projection"
          + " is for model llama3-8b, the run's --model is tiny",
      "--calibration cpu-tiny --fail-agent agent-x@1s     | coordinator simulate: --fail-agent must be AGENT@TIME",
      "--calibration cpu-tiny --backend cpu               | coordinator simulate: --backend does not apply",
      "--calibration cpu-tiny --profile-steps 3           | coordinator simulate: --profile-steps does not apply",
      "--calibration cpu-tiny --world-size 2 --fail-agent agent-5@1s | coordinator simulate: --fail-agent agent-5@1.000s:"
          + " the fleet of 2 GPUs has agents agent-0 to agent-1",
      "--calibration cpu-tiny --layout disagg=1:1 --world-size 2 | coordinator simulate: --layout disagg=1:1 needs the"
          + " calibration's kv_transfer term",
      "--calibration cpu-tiny --world-sizes 4,4          | coordinator simulate: --world-sizes lists 4 twice",
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
