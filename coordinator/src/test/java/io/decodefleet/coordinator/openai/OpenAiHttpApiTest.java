package io.decodefleet.coordinator.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI HTTP API over a real socket, with the JDK's HTTP client, against a real two-agent CPU
 * cluster: statuses and error shapes, stop strings and stop tokens, and that a client that goes
 * away mid-stream stops its sequence on the fleet. This server takes one request at a time, so the
 * 429 of a second one is testable.
 */
class OpenAiHttpApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static OpenAiFleet fleet;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    fleet = new OpenAiFleet(1);
  }

  @AfterAll
  static void stop() {
    fleet.close();
  }

  static HttpResponse<String> post(String path, String body, String key) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fleet.baseUrl() + path)).timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) b.header("Authorization", "Bearer " + key);
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(String path, String body) throws Exception {
    return post(path, body, OpenAiFleet.API_KEY);
  }

  static HttpResponse<String> get(String path, String key) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fleet.baseUrl() + path)).GET();
    if (key != null) b.header("Authorization", "Bearer " + key);
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The error's {@code param}, after checking the status and OpenAI's error shape. */
  static String errorParam(HttpResponse<String> r, int status) throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    JsonNode e = JSON.readTree(r.body()).get("error");
    assertTrue(e != null && e.get("message").isTextual() && e.get("type").isTextual() && e.has("param")
        && e.has("code"), r.body());
    return e.get("param").isNull() ? null : e.get("param").asText();
  }

  @Test
  void healthVersionAndModelsAnswerAndOnlyV1NeedsTheKey() throws Exception {
    assertEquals(200, get("/health", null).statusCode());
    assertEquals("test", JSON.readTree(get("/version", null).body()).get("version").asText());
    assertEquals(null, errorParam(get("/v1/models", null), 401));
    assertEquals(null, errorParam(get("/v1/models", "nope"), 401));
    JsonNode models = JSON.readTree(get("/v1/models", OpenAiFleet.API_KEY).body());
    assertEquals("list", models.get("object").asText());
    assertEquals(OpenAiFleet.MODEL, models.get("data").get(0).get("id").asText());
    assertEquals(2048, models.get("data").get(0).get("max_model_len").asInt());
  }

  /**
   * The API's listening socket queues 4096 connections, not Pekko's 100: a benchmark client that opened
   * 1024 connections at once lost 53 requests with no answer when the queue overflowed (docs/performance.md).
   */
  @Test
  void theListenBacklogHoldsABenchmarkClientsBurstOfConnections() {
    assertEquals(4096, OpenAiServer.settings(fleet.cluster().system()).getBacklog());
  }

  /** The value of the sample line that starts with {@code series} in a /metrics answer. */
  static double metric(String exposition, String series) {
    return exposition.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(
        l.substring(series.length() + 1))).findFirst().orElseThrow(() -> new AssertionError("no " + series));
  }

  @Test
  void metricsNeedNoKeyAndCountACompletionsTokensAndTimings() throws Exception {
    HttpResponse<String> before = get("/metrics", null);
    assertEquals(200, before.statusCode(), before.body());
    assertTrue(before.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
        before.headers().toString());
    JsonNode done = complete(", \"max_tokens\": 7, \"ignore_eos\": true");
    String after = get("/metrics", null).body();
    String tokens = "vllm:generation_tokens_total{model_name=\"tiny\"}";
    assertEquals(done.get("usage").get("completion_tokens").asInt(), metric(after, tokens) - metric(before.body(),
        tokens));
    String e2e = "vllm:e2e_request_latency_seconds_count{model_name=\"tiny\"}";
    assertEquals(1, metric(after, e2e) - metric(before.body(), e2e));
    HttpRequest post = HttpRequest.newBuilder(URI.create(fleet.baseUrl() + "/metrics"))
        .POST(HttpRequest.BodyPublishers.noBody()).build();
    assertEquals(405, HTTP.send(post, HttpResponse.BodyHandlers.ofString()).statusCode());
  }

  @Test
  void everyFieldThatCannotBeServedIsA400NamingIt() throws Exception {
    String m = "\"model\": \"tiny\", ";
    assertEquals("temperature", errorParam(post("/v1/completions", "{" + m + "\"prompt\": \"a\", \"temperature\": -1}"), 400));
    assertEquals("top_p", errorParam(post("/v1/completions", "{" + m + "\"prompt\": \"a\", \"top_p\": 0}"), 400));
    assertEquals("n", errorParam(post("/v1/completions", "{" + m + "\"prompt\": \"a\", \"n\": 3}"), 400));
    assertEquals("logprobs", errorParam(post("/v1/chat/completions",
        "{" + m + "\"messages\": [{\"role\": \"user\", \"content\": \"a\"}], \"logprobs\": true}"), 400));
    assertEquals("frobnicate", errorParam(post("/v1/completions", "{" + m + "\"prompt\": \"a\", \"frobnicate\": 1}"), 400));
    assertEquals("prompt", errorParam(post("/v1/completions", "{" + m + "\"prompt\": [\"a\", \"b\"]}"), 400));
    assertEquals("prompt", errorParam(post("/v1/completions", "{" + m + "\"prompt\": [1, 99999]}"), 400));
    assertEquals("max_tokens", errorParam(post("/v1/completions", "{" + m + "\"prompt\": \"a\", \"max_tokens\": 5000}"),
        400));
    assertEquals("min_tokens", errorParam(post("/v1/completions",
        "{" + m + "\"prompt\": \"a\", \"max_tokens\": 4, \"min_tokens\": 5}"), 400));
    assertEquals("messages", errorParam(post("/v1/chat/completions", "{" + m + "\"messages\": []}"), 400));
    assertEquals("stream_options", errorParam(post("/v1/completions",
        "{" + m + "\"prompt\": \"a\", \"stream_options\": {\"include_usage\": true}}"), 400));
    assertEquals("body", errorParam(post("/v1/completions", "{not json"), 400));
    assertEquals("model", errorParam(post("/v1/completions", "{\"model\": \"gpt-9\", \"prompt\": \"a\"}"), 404));
    assertEquals(null, errorParam(post("/v1/embeddings", "{}"), 404));
    assertEquals(null, errorParam(get("/v1/completions", OpenAiFleet.API_KEY), 405));
    String huge = "{" + m + "\"prompt\": \"" + "x".repeat((int) OpenAiServer.MAX_BODY_BYTES) + "\"}";
    assertEquals("body", errorParam(post("/v1/completions", huge), 413));
  }

  static JsonNode complete(String extra) throws Exception {
    HttpResponse<String> r = post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"The fleet\", "
        + "\"return_token_ids\": true" + extra + "}");
    assertEquals(200, r.statusCode(), r.body());
    return JSON.readTree(r.body());
  }

  @Test
  void aStopStringEndsTheTextBeforeItAndStopsTheSequence() throws Exception {
    JsonNode full = complete(", \"max_tokens\": 40, \"ignore_eos\": true").get("choices").get(0);
    String text = full.get("text").asText();
    assertTrue(text.length() > 12, text);
    String stop = text.substring(8, 11);
    int at = text.indexOf(stop);
    JsonNode cut = complete(", \"max_tokens\": 40, \"ignore_eos\": true, \"stop\": [\"" + JsonText.escape(stop) + "\"]");
    assertEquals(text.substring(0, at), cut.get("choices").get(0).get("text").asText());
    assertEquals("stop", cut.get("choices").get(0).get("finish_reason").asText());
    assertTrue(cut.get("usage").get("completion_tokens").asInt() < 40, cut.toString());
  }

  @Test
  void aStopTokenEndsTheSequenceFromMinTokensOn() throws Exception {
    JsonNode full = complete(", \"max_tokens\": 24, \"ignore_eos\": true").get("choices").get(0);
    JsonNode ids = full.get("token_ids");
    assertEquals(24, ids.size());
    int stopId = ids.get(5).asInt();
    int first = 0;
    while (ids.get(first).asInt() != stopId) first++;
    JsonNode stopped = complete(", \"max_tokens\": 24, \"ignore_eos\": true, \"stop_token_ids\": [" + stopId + "]");
    assertEquals("stop", stopped.get("choices").get(0).get("finish_reason").asText());
    assertEquals(first + 1, stopped.get("usage").get("completion_tokens").asInt(), stopped.toString());
    JsonNode later = complete(", \"max_tokens\": 24, \"ignore_eos\": true, \"stop_token_ids\": [" + stopId + "], "
        + "\"min_tokens\": 24");
    assertEquals("length", later.get("choices").get(0).get("finish_reason").asText());
    assertEquals(24, later.get("usage").get("completion_tokens").asInt());
  }

  @Test
  void aClientThatLeavesMidStreamStopsItsSequenceAndASecondRequestMeanwhileGets429() throws Exception {
    long stepsBefore = totalSteps();
    HttpRequest req = HttpRequest.newBuilder(URI.create(fleet.baseUrl() + "/v1/completions"))
        .header("Authorization", "Bearer " + OpenAiFleet.API_KEY).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"tiny\", \"prompt\": [1, 2, 3], \"max_tokens\": 2000, "
            + "\"ignore_eos\": true, \"stream\": true}")).build();
    HttpResponse<InputStream> stream = HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, stream.statusCode());
    assertEquals("text/event-stream", stream.headers().firstValue("Content-Type").orElse("").split(";")[0]);
    BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
    assertTrue(lines.readLine().startsWith("data: {"));
    assertEquals(null, errorParam(post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"a\"}"), 429));
    stream.body().close();
    long settled = waitForStepsToSettle();
    assertTrue(settled - stepsBefore < 1500, "the agents went on for " + (settled - stepsBefore)
        + " steps after the client left (2000 without a cancel)");
    assertEquals(200, post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"a\", \"max_tokens\": 2}")
        .statusCode(), "the slot is free again");
  }

  private static long totalSteps() throws Exception {
    ClusterSnapshot s = AskPattern.<Coordinator.Command, ClusterSnapshot>ask(fleet.cluster.coordinator(),
        Coordinator.GetClusterState::new, Duration.ofSeconds(10), fleet.cluster.system().scheduler())
        .toCompletableFuture().get(15, TimeUnit.SECONDS);
    return s.agents().stream().mapToLong(AgentSnapshot::steps).sum();
  }

  private static long waitForStepsToSettle() throws Exception {
    long last = totalSteps();
    for (int i = 0; i < 50; i++) {
      Thread.sleep(200);
      long now = totalSteps();
      if (now == last) return now;
      last = now;
    }
    return last;
  }

  /** JSON string escaping for a test's literal. */
  static final class JsonText {
    static String escape(String s) {
      ObjectNode o = JSON.createObjectNode().put("s", s);
      String quoted = o.get("s").toString();
      return quoted.substring(1, quoted.length() - 1);
    }
  }
}
