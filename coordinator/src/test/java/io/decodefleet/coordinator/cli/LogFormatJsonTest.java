package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.decodefleet.agent.cli.GpuAgentCli;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --log-format json in a fresh JVM, as a user runs it: every stderr line a JSON object, a request's lines with its id. */
class LogFormatJsonTest {

  private record Result(int code, String out, String err) {}

  private static Result run(Class<?> main, List<String> jvm, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(jvm);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).start();
    p.getOutputStream().close();
    var err = p.getErrorStream();
    var errText = new java.util.concurrent.CompletableFuture<String>();
    new Thread(() -> {
      try {
        errText.complete(new String(err.readAllBytes(), StandardCharsets.UTF_8));
      } catch (java.io.IOException e) {
        errText.completeExceptionally(e);
      }
    }).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Result(p.waitFor(), out, errText.get());
  }

  @Test
  void everyLogLineIsJsonAndASequencesLinesCarryTheirRequestId(@TempDir Path dir) throws Exception {
    Result r = run(CoordinatorCli.class, List.of("-Ddecodefleet.log.level=DEBUG"), "--world-size", "1",
        "--num-requests", "3", "--prompt-len", "8", "--output-len", "4", "--log-format", "json", "--quiet",
        "--report-dir", dir.toString());

    assertEquals(0, r.code(), r.err());
    ObjectMapper json = new ObjectMapper();
    Set<String> placed = new TreeSet<>();
    Set<String> finished = new TreeSet<>();
    int lines = 0;
    for (String line : r.err().lines().filter(l -> !l.isBlank()).toList()) {
      JsonNode event = json.readTree(line); // throws on a line that is not JSON
      lines++;
      assertTrue(event.isObject() && event.has("level") && event.has("loggerName"), line);
      String message = event.path("formattedMessage").asText();
      if (!message.startsWith("sequence ")) continue;
      JsonNode id = event.path("mdc").path("request_id");
      assertFalse(id.isMissingNode(), "a line about a sequence without its request id: " + line);
      if (message.contains("tokens of KV reserved")) placed.add(id.asText());
      if (message.contains(" finished on ")) finished.add(id.asText());
    }
    assertTrue(lines >= 6, r.err());
    assertEquals(Set.of("0", "1", "2"), placed);
    assertEquals(Set.of("0", "1", "2"), finished);
    assertEquals("report: " + dir.resolve("report.json"), r.out().strip(), "stdout stays the results'");
  }

  @Test
  void anUnknownFormatIsOneLineAndExitCode2InBothClis() throws Exception {
    Result coordinator = run(CoordinatorCli.class, List.of(), "--log-format", "xml", "--world-size", "1");
    assertEquals(2, coordinator.code(), coordinator.err());
    assertEquals("coordinator: --log-format must be text or json, got 'xml'", coordinator.err().strip());

    Result agent = run(GpuAgentCli.class, List.of(), "--log-format", "xml", "--seed-nodes", "127.0.0.1:1");
    assertEquals(2, agent.code(), agent.err());
    assertEquals("gpu-agent: --log-format must be text or json, got 'xml'", agent.err().strip());
  }
}
