package io.decodefleet.coordinator.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.decodefleet.coordinator.metrics.MetricsRecorder;
import io.decodefleet.coordinator.metrics.RequestRecord;
import io.decodefleet.coordinator.workload.RequestSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The client against a server that writes byte-exact bodies over a real socket (the JDK's own HTTP
 * server): what is sent, how the stream is timed as it arrives, and how statuses and error events
 * become failure reasons.
 */
class OpenAiEndpointTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static HttpServer server;
  private static final Map<String, String> lastBody = new ConcurrentHashMap<>();
  private static final Map<String, String> lastAuthorization = new ConcurrentHashMap<>();

  /** What a path answers: a status and body parts written with a pause between them. */
  private record Answer(int status, long pauseMs, String... parts) {}

  private static final Map<String, Answer> ANSWERS = Map.of(
      "/ok/v1/completions", new Answer(200, 150,
          "data: {\"choices\":[{\"index\":0,\"text\":\"a\",\"token_ids\":[42],\"finish_reason\":null}],\"usage\":null}\n\n",
          "data: {\"choices\":[{\"index\":0,\"text\":\"b\",\"token_ids\":[43],\"finish_reason\":null}],\"usage\":null}\n"
              + "\ndata: {\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}],\"usage\":null}\n\n"
              + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n"
              + "data: [DONE]\n\n"),
      "/error/v1/completions", new Answer(200, 0,
          "data: {\"error\":{\"message\":\"no live agent\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"
              + "data: [DONE]\n\n"),
      "/busy/v1/completions", new Answer(429, 0,
          "{\"error\":{\"message\":\"too many requests in flight (1); retry later\",\"type\":\"rate_limit_error\","
              + "\"param\":null,\"code\":\"rate_limit_exceeded\"}}"),
      "/gateway/v1/completions", new Answer(502, 0, "<html>\n<b>Bad Gateway</b>\n</html>"),
      "/cut/v1/completions", new Answer(200, 0, "data: {\"choices\":[{\"text\":\"a\"}]}\n\n"),
      "/stall/v1/completions", new Answer(200, 4000,
          "data: {\"choices\":[{\"index\":0,\"text\":\"a\",\"token_ids\":[42],\"finish_reason\":null}],\"usage\":null}\n\n",
          "data: {\"choices\":[{\"index\":0,\"text\":\"b\",\"token_ids\":[43],\"finish_reason\":null}],\"usage\":null}\n\n"
              + "data: [DONE]\n\n"),
      "/ok/v1/models", new Answer(200, 0, "{\"object\":\"list\",\"data\":[{\"id\":\"m\",\"object\":\"model\"}]}"),
      "/locked/v1/models", new Answer(401, 0, "{\"error\":{\"message\":\"Incorrect API key\"}}"));

  @BeforeAll
  static void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", OpenAiEndpointTest::answer);
    server.setExecutor(Executors.newCachedThreadPool());
    server.start();
  }

  @AfterAll
  static void stop() {
    server.stop(0);
  }

  private static void answer(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    lastBody.put(path, new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
    String auth = exchange.getRequestHeaders().getFirst("Authorization");
    if (auth != null) lastAuthorization.put(path, auth);
    Answer a = ANSWERS.getOrDefault(path, new Answer(404, 0, "{\"error\":{\"message\":\"Not Found: " + path + "\"}}"));
    exchange.sendResponseHeaders(a.status(), 0); // chunked: every part leaves when it is flushed
    try (OutputStream out = exchange.getResponseBody()) {
      for (int i = 0; i < a.parts().length; i++) {
        if (i > 0) sleep(a.pauseMs());
        out.write(a.parts()[i].getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String url(String name) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + name + "/v1";
  }

  private static CompletionStream stream(String name) throws Exception {
    OpenAiEndpoint endpoint = new OpenAiEndpoint(url(name) + "/", "m", "secret");
    return endpoint.stream(new RequestSpec(0, 0, new int[] {7, 8, 9}, 2)).get(30, TimeUnit.SECONDS);
  }

  @Test
  void sendsTheWorkloadsTokensGreedyStreamedWithUsageAndTheKey() throws Exception {
    stream("ok");

    JsonNode body = JSON.readTree(lastBody.get("/ok/v1/completions"));
    assertEquals(List.of("model", "prompt", "max_tokens", "temperature", "ignore_eos", "stream", "stream_options",
        "return_token_ids"), fields(body));
    assertEquals("m", body.get("model").textValue());
    assertEquals("[7,8,9]", body.get("prompt").toString());
    assertEquals(2, body.get("max_tokens").intValue());
    assertEquals(0.0, body.get("temperature").doubleValue());
    assertTrue(body.get("ignore_eos").booleanValue() && body.get("stream").booleanValue()
        && body.get("return_token_ids").booleanValue());
    assertTrue(body.get("stream_options").get("include_usage").booleanValue());
    assertEquals("Bearer secret", lastAuthorization.get("/ok/v1/completions"));
  }

  @Test
  void aGivenTemperatureIsSentAndABadOneIsRefused() throws Exception {
    OpenAiEndpoint endpoint = new OpenAiEndpoint(url("ok"), "m", null, OpenAiEndpoint.DEFAULT_REQUEST_TIMEOUT, 0.7);
    endpoint.stream(new RequestSpec(0, 0, new int[] {7}, 2)).get(30, TimeUnit.SECONDS);
    assertEquals(0.7, JSON.readTree(lastBody.get("/ok/v1/completions")).get("temperature").doubleValue());
    for (double bad : new double[] {-0.1, Double.NaN, Double.POSITIVE_INFINITY}) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> new OpenAiEndpoint(url("ok"), "m", null, OpenAiEndpoint.DEFAULT_REQUEST_TIMEOUT, bad));
      assertTrue(e.getMessage().contains("temperature"), e.getMessage());
    }
  }

  @Test
  void tokensAreTimedAsTheirEventsArriveNotWhenTheBodyEnds() throws Exception {
    long released = System.nanoTime();
    CompletionStream s = stream("ok");

    assertTrue(s.completed(), s.failure());
    assertArrayEquals(new int[] {42, 43}, s.tokenIds());
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(0, 3, 2, released);
    s.recordInto(m, 0, EndpointRun.AGENT_ID);
    RequestRecord r = m.requests().get(0);
    assertEquals(2, r.outputTokens());
    assertTrue(r.itlMs().get(0) >= 140, "the server paused 150 ms between the two tokens: " + r.itlMs());
    assertTrue(r.ttftMs() < r.e2eMs() - 140, r.ttftMs() + " vs " + r.e2eMs());
  }

  @Test
  void anErrorEventIsTheFailureReason() throws Exception {
    assertEquals("error: no live agent", stream("error").failure());
  }

  @Test
  void aStatusOtherThan200IsTheFailureReasonWithTheServersMessage() throws Exception {
    assertEquals("HTTP 429: too many requests in flight (1); retry later", stream("busy").failure());
    assertEquals("HTTP 502: <html> <b>Bad Gateway</b> </html>", stream("gateway").failure());
    assertEquals("HTTP 404: Not Found: /nowhere/v1/completions", stream("nowhere").failure());
  }

  @Test
  void aStreamCutBeforeDoneFails() throws Exception {
    CompletionStream s = stream("cut");
    assertFalse(s.completed());
    assertEquals("the stream ended before data: [DONE]", s.failure());
  }

  @Test
  void aRequestStillOpenAtTheRequestTimeoutFailsWithThatReasonAndKeepsWhatArrived() throws Exception {
    OpenAiEndpoint endpoint = new OpenAiEndpoint(url("stall"), "m", null, java.time.Duration.ofMillis(500));
    long released = System.nanoTime();

    CompletionStream s = endpoint.stream(new RequestSpec(0, 0, new int[] {7}, 2)).get(30, TimeUnit.SECONDS);

    assertFalse(s.completed());
    assertTrue(s.timedOut());
    assertEquals("no complete response within 0.5 s (the request timeout)", s.failure());
    assertEquals(1, s.countedTokens(), "the first token arrived before the timeout, the second after it");
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(0, 1, 2, released);
    s.recordInto(m, 0, EndpointRun.AGENT_ID);
    assertEquals(1, m.requests().get(0).outputTokens());
    assertEquals("no complete response within 0.5 s (the request timeout)", m.requests().get(0).failureReason());
    Thread.sleep(4500); // the server's second token and [DONE] arrive at an abandoned request
    assertFalse(s.completed());
    assertEquals(1, s.countedTokens());
  }

  @Test
  void aServerThatIsNotThereFailsEveryRequestWithOneLine() throws Exception {
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    OpenAiEndpoint endpoint = new OpenAiEndpoint("http://127.0.0.1:" + port + "/v1", "m", null);

    CompletionStream s = endpoint.stream(new RequestSpec(0, 0, new int[] {1}, 1)).get(30, TimeUnit.SECONDS);

    assertTrue(s.failure().startsWith("ConnectException"), s.failure());
    assertTrue(endpoint.unreachable(new ArrayList<>()).startsWith("cannot reach http://127.0.0.1:" + port + "/v1"));
  }

  @Test
  void modelsCheckRefusesAWrongKeyAndWarnsAboutAnUnlistedModel() throws Exception {
    List<String> warnings = new ArrayList<>();
    assertEquals("GET " + url("locked") + "/models: HTTP 401: Incorrect API key",
        new OpenAiEndpoint(url("locked"), "m", "k").unreachable(warnings));
    assertNull(new OpenAiEndpoint(url("ok"), "m", "k").unreachable(warnings));
    assertEquals(List.of(), warnings);
    assertNull(new OpenAiEndpoint(url("ok"), "other", "k").unreachable(warnings));
    assertEquals(List.of(url("ok") + "/models lists m, not 'other'"), warnings);
  }

  private static List<String> fields(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
