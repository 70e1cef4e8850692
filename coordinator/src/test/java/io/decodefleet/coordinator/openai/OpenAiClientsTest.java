package io.decodefleet.coordinator.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Standard clients against the OpenAI HTTP API of a real two-agent CPU cluster: the official OpenAI
 * client for Node (installed from the npm registry into target/ by {@code npm ci}), and plain curl,
 * whose bytes are checked against Server-Sent Events framing exactly.
 */
class OpenAiClientsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static OpenAiFleet fleet;

  @BeforeAll
  static void start() throws Exception {
    fleet = new OpenAiFleet(64);
  }

  @AfterAll
  static void stop() {
    fleet.close();
  }

  private static boolean onPath(String tool) {
    try {
      return new ProcessBuilder(tool, "--version").redirectErrorStream(true).start().waitFor(20, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  /** Runs a command; its output, after checking it exited 0. */
  private static String run(Path dir, List<String> command, int timeoutSeconds) throws Exception {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
    String text = new String(out, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + text);
    return text;
  }

  @Test
  void theOfficialOpenAiNodeClientStreamsAndFailsAsItExpects() throws Exception {
    assumeTrue(onPath("node") && onPath("npm"), "node and npm are needed for the OpenAI Node client test");
    Path source = Paths.get("src/test/node");
    Path dir = Paths.get("target/openai-node");
    Files.createDirectories(dir);
    for (String f : List.of("package.json", "package-lock.json", "openai_client_check.mjs")) {
      Files.copy(source.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    if (!Files.isDirectory(dir.resolve("node_modules/openai"))) {
      run(dir, List.of("npm", "ci", "--no-audit", "--no-fund"), 300);
    }
    String out = run(dir, List.of("node", "openai_client_check.mjs", fleet.baseUrl() + "/v1", OpenAiFleet.API_KEY,
        OpenAiFleet.MODEL), 300);
    assertTrue(out.contains("ok a wrong API key is 401"), out);
    assertEquals(13, out.lines().filter(l -> l.startsWith("ok ")).count(), out);
  }

  @Test
  void curlSeesExactServerSentEventsFramingEndingWithDone() throws Exception {
    assumeTrue(onPath("curl"), "curl is needed for the SSE framing test");
    String body = "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 5, "
        + "\"ignore_eos\": true, \"stream\": true, \"stream_options\": {\"include_usage\": true}}";
    Path headers = Files.createTempFile("sse-headers", ".txt");
    String raw = run(Paths.get("."), List.of("curl", "-sS", "-N", "-D", headers.toString(), "-H",
        "Authorization: Bearer " + OpenAiFleet.API_KEY, "-H", "Content-Type: application/json", "-d", body,
        fleet.baseUrl() + "/v1/chat/completions"), 60);
    assertTrue(Files.readString(headers).toLowerCase().contains("content-type: text/event-stream"),
        Files.readString(headers));

    // Every byte belongs to a frame "data: <compact JSON>\n\n"; the last is "data: [DONE]\n\n".
    assertTrue(raw.endsWith("data: [DONE]\n\n"), raw);
    List<JsonNode> chunks = new ArrayList<>();
    StringBuilder rebuilt = new StringBuilder();
    for (String frame : raw.substring(0, raw.length() - "data: [DONE]\n\n".length()).split("\n\n", -1)) {
      if (frame.isEmpty()) continue;
      assertTrue(frame.startsWith("data: {") && !frame.contains("\n"), "frame: " + frame);
      JsonNode chunk = JSON.readTree(frame.substring("data: ".length()));
      chunks.add(chunk);
      rebuilt.append("data: ").append(chunk.toString()).append("\n\n");
    }
    assertEquals(raw, rebuilt + "data: [DONE]\n\n", "frames are exactly data lines of compact JSON");

    String id = chunks.get(0).get("id").asText();
    assertTrue(id.startsWith("chatcmpl-"), id);
    for (JsonNode c : chunks) {
      assertEquals(id, c.get("id").asText());
      assertEquals("chat.completion.chunk", c.get("object").asText());
      assertEquals("tiny", c.get("model").asText());
    }
    assertEquals("assistant", chunks.get(0).get("choices").get(0).get("delta").get("role").asText());
    JsonNode last = chunks.get(chunks.size() - 2).get("choices").get(0);
    assertEquals("length", last.get("finish_reason").asText());
    JsonNode usage = chunks.get(chunks.size() - 1);
    assertEquals(0, usage.get("choices").size());
    assertEquals(5, usage.get("usage").get("completion_tokens").asInt());
    for (JsonNode c : chunks.subList(0, chunks.size() - 1)) assertTrue(c.get("usage").isNull(), c.toString());
  }
}
