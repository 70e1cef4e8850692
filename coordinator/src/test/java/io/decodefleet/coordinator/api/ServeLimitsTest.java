package io.decodefleet.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.api.DecodeFleetHandlerFactory;
import io.decodefleet.api.GenerateEvent;
import io.decodefleet.api.GenerateRequest;
import io.decodefleet.api.SamplingParams;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.admission.InFlightLimit;
import io.decodefleet.coordinator.admission.RequestSizeLimits;
import io.decodefleet.coordinator.generation.ModelLimits;
import io.decodefleet.coordinator.metrics.RequestObserver;
import io.decodefleet.coordinator.node.EmbeddedCluster;
import io.decodefleet.coordinator.openai.OpenAiServer;
import io.decodefleet.coordinator.security.ApiKey;
import io.decodefleet.coordinator.openai.TemplatePrompts;
import io.decodefleet.coordinator.text.ByteTokenizer;
import io.decodefleet.coordinator.text.ChatTemplate;
import io.grpc.Status;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The limits of {@code serve}, wired as it wires them, over real sockets on a real two-agent CPU
 * cluster whose KV pools (96 blocks of 16 tokens: 1536) hold less than tiny's context (2048): one
 * bound of requests in flight (here 1) for the gRPC and the HTTP API together, the fleet's length
 * limit on both, and the size of a gRPC message and of either port's headers.
 */
class ServeLimitsTest {
  private static final Duration T = Duration.ofSeconds(60);
  private static final ModelSpec MODEL = new ModelSpec("tiny", 11, 16, 96, 16, 128, 0.0);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** HTTP/1.1, so the headers meet the HTTP/1.1 parser. */
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static EmbeddedCluster cluster;
  private static InFlightLimit inFlight;
  private static ServerBinding grpc;
  private static ServerBinding http;
  private static GrpcTestClient client;

  @BeforeAll
  static void start() throws Exception {
    cluster = EmbeddedCluster.start(2, ConfigFactory.empty(), 8L << 20);
    Coordinator.FleetStatus status = AskPattern.<Coordinator.Command, Coordinator.FleetStatus>ask(cluster.coordinator(),
        r -> new Coordinator.LoadFleet(2, MODEL, T, r), T, cluster.system().scheduler()).toCompletableFuture()
        .get(70, TimeUnit.SECONDS);
    assertTrue(status instanceof Coordinator.FleetReady, status.toString());
    ByteTokenizer tokenizer = new ByteTokenizer();
    ModelLimits limits = new ModelLimits("tiny", ModelConfig.preset("tiny").vocabSize(), 2048,
        tokenizer.eosTokenIds(), 16).onFleet(((Coordinator.FleetReady) status).state());
    inFlight = new InFlightLimit(1);
    DecodeFleetService service = new DecodeFleetService(cluster.system(), cluster.coordinator(), MODEL, limits,
        tokenizer, 2, inFlight, (r, o, skipped) -> "{}", RequestObserver.NONE);
    grpc = Http.get(cluster.system()).newServerAt("127.0.0.1", 0)
        .withSettings(GrpcRequestLimits.settings(cluster.system()))
        .bind(GrpcRequestLimits.around(DecodeFleetHandlerFactory.create(service, cluster.system()), cluster.system()))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    OpenAiServer openAi = new OpenAiServer(cluster.system(), cluster.coordinator(), limits, tokenizer,
        new TemplatePrompts(tokenizer, ChatTemplate.builtIn()), ApiKey.of(Optional.empty()), inFlight, "test", cluster.metrics());
    http = Http.get(cluster.system()).newServerAt("127.0.0.1", 0).withSettings(OpenAiServer.settings(cluster.system()))
        .bind(openAi::handle).toCompletableFuture().get(30, TimeUnit.SECONDS);
    client = new GrpcTestClient("127.0.0.1", grpc.localAddress().getPort());
  }

  @AfterAll
  static void stop() {
    client.close();
    grpc.unbind();
    http.unbind();
    cluster.close();
  }

  private static HttpRequest.Builder post(String path, String body) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.localAddress().getPort() + path))
        .timeout(T).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The error's message, after checking the status, OpenAI's error shape and its {@code param}. */
  private static String error(HttpResponse<String> r, int status, String param) throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    JsonNode e = JSON.readTree(r.body()).get("error");
    assertTrue(e != null && e.get("message").isTextual() && e.get("type").isTextual() && e.has("code"), r.body());
    assertEquals(param, e.get("param").isNull() ? null : e.get("param").asText(), r.body());
    return e.get("message").asText();
  }

  private static Status grpcStatus(GenerateRequest request) {
    return GrpcTestClient.statusOf(assertThrows(Exception.class, () -> client.generate(request, T)));
  }

  /** A Generate call that runs long (ignoring EOS), its stream open after its first event. */
  private static SinkQueueWithCancel<GenerateEvent> longGeneration() throws Exception {
    GenerateRequest request = GenerateRequest.newBuilder().addPromptTokenIds(1).addPromptTokenIds(2)
        .setMaxTokens(1500).setSampling(SamplingParams.newBuilder().setIgnoreEos(true)).build();
    SinkQueueWithCancel<GenerateEvent> events = client.client.generate(request).runWith(Sink.queue(), client.system);
    assertTrue(events.pull().toCompletableFuture().get(60, TimeUnit.SECONDS).isPresent());
    return events;
  }

  /** Waits until every slot was given back (a cancelled stream ends on the server shortly after). */
  private static void awaitNoneInFlight() throws InterruptedException {
    for (int i = 0; i < 300 && inFlight.inFlight() > 0; i++) Thread.sleep(100);
    assertEquals(0, inFlight.inFlight());
  }

  @Test
  void oneBoundOfRequestsInFlightCoversTheGrpcAndTheHttpApi() throws Exception {
    String completion = "{\"model\": \"tiny\", \"prompt\": [1, 2], \"max_tokens\": 4}";
    SinkQueueWithCancel<GenerateEvent> running = longGeneration();
    try {
      assertEquals("too many requests in flight (1); retry later",
          error(send(post("/v1/completions", completion)), 429, null));
      Status second = grpcStatus(GenerateRequest.newBuilder().addPromptTokenIds(1).setMaxTokens(4).build());
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, second.getCode());
      assertEquals("too many requests in flight (1); retry later", second.getDescription());
    } finally {
      running.cancel();
    }
    awaitNoneInFlight();

    HttpResponse<InputStream> stream = HTTP.send(post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": [1, 2], "
        + "\"max_tokens\": 1500, \"ignore_eos\": true, \"stream\": true}").build(),
        HttpResponse.BodyHandlers.ofInputStream());
    try {
      assertEquals(200, stream.statusCode());
      assertTrue(stream.body().read() >= 0, "the stream started");
      Status whileHttpRuns = grpcStatus(GenerateRequest.newBuilder().addPromptTokenIds(1).setMaxTokens(4).build());
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, whileHttpRuns.getCode());
    } finally {
      stream.body().close();
    }
    awaitNoneInFlight();
    assertEquals(200, send(post("/v1/completions", completion)).statusCode(), "the slot is free again");
  }

  @Test
  void aRequestNoAgentsKvPoolCouldHoldIsRefusedByBothApisNamingThePool() throws Exception {
    String pool = "a 5-token prompt plus up to 1600 output tokens needs 101 KV blocks of 16 tokens; the largest "
        + "agent's KV pool holds 96";
    GenerateRequest.Builder grpcRequest = GenerateRequest.newBuilder().setMaxTokens(1600);
    for (int id = 1; id <= 5; id++) grpcRequest.addPromptTokenIds(id);
    Status status = grpcStatus(grpcRequest.build());
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertEquals("max_tokens: " + pool, status.getDescription());
    assertEquals("max_tokens: " + pool, error(send(post("/v1/completions",
        "{\"model\": \"tiny\", \"prompt\": [1, 2, 3, 4, 5], \"max_tokens\": 1600}")), 400, "max_tokens"));
    assertTrue(error(send(post("/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", "
        + "\"content\": \"hi\"}], \"max_tokens\": 1600}")), 400, "max_tokens").contains("the largest agent's KV pool "
        + "holds 96"));
    // Within the context and the pool: served.
    assertEquals(200, send(post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": [1, 2, 3, 4, 5], "
        + "\"max_tokens\": 3}")).statusCode());
    HttpResponse<String> models = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + http.localAddress().getPort() + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(1536, JSON.readTree(models.body()).get("data").get(0).get("max_model_len").asInt());
  }

  @Test
  void aGrpcMessageOverTheLimitIsResourceExhaustedAndOneWithinItReachesTheService() {
    int limit = (int) RequestSizeLimits.MAX_BODY_BYTES;
    Status tooLarge = grpcStatus(GenerateRequest.newBuilder().setPrompt("x".repeat(limit + 1)).setMaxTokens(4).build());
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, tooLarge.getCode());
    assertEquals("message: larger than 4194304 bytes", tooLarge.getDescription());
    Status large = grpcStatus(GenerateRequest.newBuilder().setPrompt("x".repeat(limit - 16)).setMaxTokens(4).build());
    assertEquals(Status.Code.INVALID_ARGUMENT, large.getCode());
    assertTrue(large.getDescription().startsWith("prompt: a 4194289-token prompt plus up to 4 output tokens exceeds "
        + "model tiny's context of 2048 tokens"), large.getDescription());
  }

  @Test
  void grpcMetadataOverTheLimitsIsResourceExhausted() throws Exception {
    GenerateRequest request = GenerateRequest.newBuilder().addPromptTokenIds(1).setMaxTokens(2).build();
    var many = client.client.generate();
    for (int i = 0; i < RequestSizeLimits.MAX_HEADERS; i++) many = many.addHeader("x-pad-" + i, "v");
    var manyCall = many;
    Status count = GrpcTestClient.statusOf(assertThrows(Exception.class, () -> manyCall.invoke(request)
        .runWith(Sink.seq(), client.system).toCompletableFuture().get(60, TimeUnit.SECONDS)));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, count.getCode());
    assertTrue(count.getDescription().startsWith("metadata: ") && count.getDescription().endsWith(
        " header fields, more than the limit of 64"), count.getDescription());
    Status bytes = GrpcTestClient.statusOf(assertThrows(Exception.class, () -> client.client.generate()
        .addHeader("x-pad", "v".repeat(RequestSizeLimits.MAX_HEADER_BYTES)).invoke(request)
        .runWith(Sink.seq(), client.system).toCompletableFuture().get(60, TimeUnit.SECONDS)));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, bytes.getCode(), bytes.toString());
    assertTrue(bytes.getDescription().contains("bytes of header fields, more than the limit of 16384"),
        bytes.getDescription());
    // A few headers are fine.
    assertTrue(client.client.generate().addHeader("x-pad", "v").invoke(request).runWith(Sink.seq(), client.system)
        .toCompletableFuture().get(60, TimeUnit.SECONDS).get(2).hasSummary());
  }

  /**
   * Metadata past the HTTP/2 parser's own limits (more than {@link RequestSizeLimits#PARSER_MAX_HEADERS}
   * fields) never reaches the check above: Pekko HTTP 1.1 fails the connection instead of answering
   * the stream, so the call ends INTERNAL with the client's GOAWAY description (none of ours), not a hang; the
   * server goes on, and the next call succeeds.
   */
  @Test
  void grpcMetadataPastTheParsersLimitsEndsTheCallWithATransportStatusAndTheServerGoesOn() throws Exception {
    GenerateRequest request = GenerateRequest.newBuilder().addPromptTokenIds(1).setMaxTokens(2).build();
    var extreme = client.client.generate();
    for (int i = 0; i <= RequestSizeLimits.PARSER_MAX_HEADERS; i++) extreme = extreme.addHeader("x-pad-" + i, "v");
    var extremeCall = extreme;
    Status closed = GrpcTestClient.statusOf(assertThrows(Exception.class, () -> extremeCall.invoke(request)
        .runWith(Sink.seq(), client.system).toCompletableFuture().get(60, TimeUnit.SECONDS)));
    assertEquals(Status.Code.INTERNAL, closed.getCode(), closed.toString());
    assertTrue(closed.getDescription().contains("GOAWAY"), closed.toString());
    assertTrue(client.client.generate().addHeader("x-pad", "v").invoke(request).runWith(Sink.seq(), client.system)
        .toCompletableFuture().get(60, TimeUnit.SECONDS).get(2).hasSummary(), "the next call is served");
  }

  @Test
  void httpHeadersOverTheLimitsAre431InOpenAisShape() throws Exception {
    String body = "{\"model\": \"tiny\", \"prompt\": [1, 2], \"max_tokens\": 2}";
    HttpRequest.Builder many = post("/v1/completions", body);
    for (int i = 0; i < RequestSizeLimits.MAX_HEADERS; i++) many.header("X-Pad-" + i, "v");
    assertTrue(error(send(many), 431, "headers").endsWith(" header fields, more than the limit of 64"));
    HttpRequest.Builder large = post("/v1/completions", body);
    for (int i = 0; i < 3; i++) large.header("X-Pad-" + i, "v".repeat(7000));
    assertTrue(error(send(large), 431, "headers").contains("bytes of header fields, more than the limit of 16384"));
    // One value over the HTTP parser's own limit: its 431, in the same shape.
    String parser = error(send(post("/v1/completions", body).header("X-Pad", "v".repeat(9000))), 431, null);
    assertTrue(parser.contains("header value exceeds the configured limit"), parser);
    assertEquals(200, send(post("/v1/completions", body).header("X-Pad", "v")).statusCode());
  }
}
