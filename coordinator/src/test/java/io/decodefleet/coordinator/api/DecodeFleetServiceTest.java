package io.decodefleet.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.api.BenchmarkEvent;
import io.decodefleet.api.BenchmarkRequest;
import io.decodefleet.api.ClusterState;
import io.decodefleet.api.ClusterStateRequest;
import io.decodefleet.api.DecodeFleetHandlerFactory;
import io.decodefleet.api.GenerateEvent;
import io.decodefleet.api.GenerateRequest;
import io.decodefleet.api.GenerateSummary;
import io.decodefleet.api.SamplingParams;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.admission.InFlightLimit;
import io.decodefleet.coordinator.generation.ModelLimits;
import io.decodefleet.coordinator.metrics.RequestObserver;
import io.decodefleet.coordinator.node.EmbeddedCluster;
import io.decodefleet.coordinator.text.ByteTokenizer;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every call of the gRPC API and every error status, over a real socket against a real 2-agent cluster. */
class DecodeFleetServiceTest {
  private static final Duration T = Duration.ofSeconds(60);
  private static final ModelSpec MODEL = new ModelSpec("tiny", 11, 16, 64, 16, 128, 0.0);
  /** The tiny preset's vocabulary and context; no EOS, so every request runs to its max tokens. */
  private static final ModelLimits LIMITS = new ModelLimits("tiny", 1024, 2048, new int[0], 16);
  /** What a request is checked against: the same on the loaded fleet, 64 KV blocks of 16 tokens per agent. */
  private static ModelLimits onFleet;
  private static EmbeddedCluster cluster;
  private static ServerBinding binding;
  private static GrpcTestClient client;

  @BeforeAll
  static void start() throws Exception {
    cluster = EmbeddedCluster.start(2, ConfigFactory.empty(), 8L << 20);
    Coordinator.FleetStatus status = AskPattern.<Coordinator.Command, Coordinator.FleetStatus>ask(cluster.coordinator(),
        r -> new Coordinator.LoadFleet(2, MODEL, T, r), T, cluster.system().scheduler()).toCompletableFuture()
        .get(70, TimeUnit.SECONDS);
    assertTrue(status instanceof Coordinator.FleetReady, status.toString());
    onFleet = LIMITS.onFleet(((Coordinator.FleetReady) status).state());
    DecodeFleetService service = new DecodeFleetService(cluster.system(), cluster.coordinator(), MODEL, onFleet,
        new ByteTokenizer(), 2, new InFlightLimit(64), (request, outcome, skipped) -> "{\"completed\": "
        + outcome.result().completed() + ", \"overlength_skipped\": " + skipped + ", \"profiled_steps\": "
        + (outcome.engine() == null || outcome.engine().profile() == null ? 0 : outcome.engine().profile().steps())
        + "}", RequestObserver.NONE);
    binding = Http.get(cluster.system()).newServerAt("127.0.0.1", 0)
        .bind(DecodeFleetHandlerFactory.create(service, cluster.system())).toCompletableFuture().get(30, TimeUnit.SECONDS);
    client = new GrpcTestClient("127.0.0.1", binding.localAddress().getPort());
  }

  @AfterAll
  static void stop() {
    client.close();
    binding.unbind();
    cluster.close();
  }

  private static GenerateRequest.Builder prompt(int... ids) {
    GenerateRequest.Builder b = GenerateRequest.newBuilder();
    for (int id : ids) b.addPromptTokenIds(id);
    return b;
  }

  @Test
  void generateStreamsEveryTokenInOrderThenASummary() throws Exception {
    List<GenerateEvent> events = client.generate(prompt(5, 9, 200, 17, 3).setMaxTokens(12).build(), T);

    GenerateEvent last = events.get(events.size() - 1);
    assertTrue(last.hasSummary());
    GenerateSummary summary = last.getSummary();
    List<Integer> streamed = new ArrayList<>();
    for (GenerateEvent e : events.subList(0, events.size() - 1)) {
      assertTrue(e.hasToken());
      assertEquals(streamed.size(), e.getToken().getIndex());
      streamed.addAll(e.getToken().getTokenIdsList());
    }
    assertEquals(12, streamed.size());
    assertEquals(streamed, summary.getOutputTokenIdsList());
    assertEquals(5, summary.getPromptTokens());
    assertEquals(12, summary.getOutputTokens());
    assertEquals(11, summary.getItlMsCount());
    assertTrue(summary.getTtftMs() > 0 && summary.getE2EMs() >= summary.getTtftMs());
    assertEquals((summary.getE2EMs() - summary.getTtftMs()) / 11, summary.getTpotMs(), 1e-9);
  }

  @Test
  void generateIsDeterministicAndPromptLenUsesTheSeed() throws Exception {
    GenerateRequest byLen = GenerateRequest.newBuilder().setPromptLen(30).setSeed(4).setMaxTokens(6).build();
    List<Integer> a = client.generate(byLen, T).get(6).getSummary().getOutputTokenIdsList();
    List<Integer> b = client.generate(byLen, T).get(6).getSummary().getOutputTokenIdsList();
    assertEquals(a, b);
    assertEquals(30, client.generate(byLen, T).get(6).getSummary().getPromptTokens());
  }

  @Test
  void badRequestsGetInvalidArgumentNamingTheField() {
    List<GenerateRequest> bad = List.of(
        prompt(1, 2).setMaxTokens(-1).build(),
        GenerateRequest.newBuilder().setMaxTokens(4).build(),
        prompt(1, 2).setPromptLen(5).setMaxTokens(4).build(),
        prompt(1, 5000).setMaxTokens(4).build(),
        prompt(1, 2).setMaxTokens(4).setSampling(SamplingParams.newBuilder().setTemperature(-0.5)).build(),
        prompt(1, 2).setMaxTokens(4).setSampling(SamplingParams.newBuilder().setTopP(1.5)).build(),
        prompt(1, 2).setMaxTokens(3000).build());
    List<String> fields = List.of("max_tokens", "prompt_token_ids", "prompt_len", "prompt_token_ids",
        "sampling.temperature", "sampling.top_p", "max_tokens");
    for (int i = 0; i < bad.size(); i++) {
      GenerateRequest request = bad.get(i);
      Exception e = assertThrows(Exception.class, () -> client.generate(request, T));
      Status status = GrpcTestClient.statusOf(e);
      assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode(), status.toString());
      assertTrue(status.getDescription().startsWith(fields.get(i) + ":"), status.getDescription());
    }
  }

  @Test
  void aRequestNoAgentsKvPoolCouldHoldGetsInvalidArgumentNamingTheFieldAndThePool() {
    // 64 blocks of 16 tokens per agent: within tiny's context of 2048, but never in a KV pool.
    GenerateRequest longPrompt = GenerateRequest.newBuilder().setPromptLen(1100).setMaxTokens(10).build();
    Status status = GrpcTestClient.statusOf(assertThrows(Exception.class, () -> client.generate(longPrompt, T)));
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertEquals("prompt_len: a 1100-token prompt plus up to 10 output tokens needs 70 KV blocks of 16 tokens; the "
        + "largest agent's KV pool holds 64", status.getDescription());
    GenerateRequest longOutput = prompt(1, 2, 3, 4, 5).setMaxTokens(1020).build();
    status = GrpcTestClient.statusOf(assertThrows(Exception.class, () -> client.generate(longOutput, T)));
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertEquals("max_tokens: a 5-token prompt plus up to 1020 output tokens needs 65 KV blocks of 16 tokens; the "
        + "largest agent's KV pool holds 64", status.getDescription());
    // A prompt_len far past the context is refused before any prompt is drawn.
    status = GrpcTestClient.statusOf(assertThrows(Exception.class, () -> client.generate(GenerateRequest.newBuilder()
        .setPromptLen(Integer.MAX_VALUE).setMaxTokens(4).build(), T)));
    assertEquals("prompt_len: a 2147483647-token prompt plus up to 4 output tokens exceeds model tiny's context of "
        + "2048 tokens", status.getDescription());
  }

  @Test
  void clusterStateListsBothAgentsWithTheirKvPools() throws Exception {
    ClusterState state = client.client.getClusterState(ClusterStateRequest.getDefaultInstance()).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    assertEquals("tiny", state.getModel());
    assertEquals(2, state.getWorldSize());
    assertEquals(2, state.getAgentsCount());
    assertEquals("agent-0", state.getAgents(0).getAgentId());
    assertEquals(64, state.getAgents(0).getKvBlocks());
    assertEquals("cpu", state.getAgents(1).getBackend());
    assertTrue(state.getAgents(1).getLoaded());
  }

  @Test
  void runBenchmarkStreamsProgressThenTheReport() throws Exception {
    BenchmarkRequest request = BenchmarkRequest.newBuilder().setNumRequests(8).setPromptLen("8:30").setOutputLen("4:10")
        .setSeed(2).setMaxConcurrency(3).build();
    List<BenchmarkEvent> events = client.client.runBenchmark(request).runWith(Sink.seq(), client.system)
        .toCompletableFuture().get(120, TimeUnit.SECONDS);

    BenchmarkEvent last = events.get(events.size() - 1);
    assertTrue(last.hasReport());
    assertTrue(last.getReport().getSucceeded());
    JsonNode report = new ObjectMapper().readTree(last.getReport().getReportJson());
    assertEquals(8, report.get("completed").asInt());
    assertTrue(events.stream().anyMatch(BenchmarkEvent::hasProgress));
    BenchmarkEvent finalProgress = events.get(events.size() - 2);
    assertEquals(8, finalProgress.getProgress().getCompleted());
    assertEquals(8, finalProgress.getProgress().getTotal());
  }

  @Test
  void aRunAsksForItsOwnProfileAndTheNextRunIsNotProfiled() throws Exception {
    // The served model profiles nothing; this run asks each of its two agents for 3 decode-only steps. Its
    // 6 sequences of 48 output tokens give each agent far more than 3 such steps.
    BenchmarkRequest profiled = BenchmarkRequest.newBuilder().setNumRequests(6).setPromptLen("8").setOutputLen("48")
        .setSeed(4).setWorldSize(2).setProfileSteps(3).build();
    JsonNode first = reportOf(profiled);
    assertEquals(6, first.get("completed").asInt(), first.toString());
    assertEquals(2 * 3, first.get("profiled_steps").asInt(), first.toString());

    // The request held for that run only: the same workload again profiles nothing.
    JsonNode second = reportOf(profiled.toBuilder().setProfileSteps(0).build());
    assertEquals(6, second.get("completed").asInt(), second.toString());
    assertEquals(0, second.get("profiled_steps").asInt(), second.toString());
  }

  private static JsonNode reportOf(BenchmarkRequest request) throws Exception {
    List<BenchmarkEvent> events = client.client.runBenchmark(request).runWith(Sink.seq(), client.system)
        .toCompletableFuture().get(120, TimeUnit.SECONDS);
    BenchmarkEvent last = events.get(events.size() - 1);
    assertTrue(last.getReport().getSucceeded(), last.toString());
    return new ObjectMapper().readTree(last.getReport().getReportJson());
  }

  @Test
  void badBenchmarkRequestsGetInvalidArgumentNamingTheField() {
    List<BenchmarkRequest> bad = List.of(BenchmarkRequest.newBuilder().setNumRequests(0).build(),
        BenchmarkRequest.newBuilder().setNumRequests(2).setWorldSize(9).build(),
        BenchmarkRequest.newBuilder().setNumRequests(2).setPromptLen("lots").build(),
        BenchmarkRequest.newBuilder().setNumRequests(2).setPlacement("random").build(),
        BenchmarkRequest.newBuilder().setNumRequests(2).setMaxConcurrency(-1).build(),
        BenchmarkRequest.newBuilder().setNumRequests(ApiRequests.MAX_BENCHMARK_REQUESTS + 1).build(),
        BenchmarkRequest.newBuilder().setNumRequests(2).setOnOverlength("truncate").build(),
        BenchmarkRequest.newBuilder().setNumRequests(2).setOutputLen("3000").build(),
        BenchmarkRequest.newBuilder().setNumRequests(2).setOutputLen("1000").build(),
        BenchmarkRequest.newBuilder().setNumRequests(2).setProfileSteps(-1).build(),
        BenchmarkRequest.newBuilder().setNumRequests(2).setProfileSteps(ApiRequests.MAX_PROFILE_STEPS + 1).build());
    List<String> fields = List.of("num_requests", "world_size", "prompt_len", "placement", "max_concurrency",
        "num_requests", "on_overlength", "output_len", "output_len", "profile_steps", "profile_steps");
    for (int i = 0; i < bad.size(); i++) {
      BenchmarkRequest request = bad.get(i);
      Exception e = assertThrows(Exception.class, () -> client.client.runBenchmark(request)
          .runWith(Sink.seq(), client.system).toCompletableFuture().get(30, TimeUnit.SECONDS));
      Status status = GrpcTestClient.statusOf(e);
      assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
      assertTrue(status.getDescription().startsWith(fields.get(i) + ":"), status.getDescription());
    }
  }

  @Test
  void aBenchmarksLongestDrawIsCheckedAgainstTheFleetsLimitUpFront() {
    // tiny's context holds 256 + 1000 tokens; a KV pool of 64 blocks of 16 does not.
    BenchmarkRequest request = BenchmarkRequest.newBuilder().setNumRequests(2).setOutputLen("1000").build();
    Status status = GrpcTestClient.statusOf(assertThrows(Exception.class, () -> client.client.runBenchmark(request)
        .runWith(Sink.seq(), client.system).toCompletableFuture().get(30, TimeUnit.SECONDS)));
    assertEquals("output_len: a 256-token prompt plus up to 1000 output tokens needs 79 KV blocks of 16 tokens; the "
        + "largest agent's KV pool holds 64", status.getDescription());
  }

  @Test
  void aBenchmarksLognormalDrawsOverTheLimitAreRefusedOrSkippedAndCounted() throws Exception {
    BenchmarkRequest.Builder tail = BenchmarkRequest.newBuilder().setNumRequests(12).setPromptLen("lognormal:700:0.8")
        .setOutputLen("4").setSeed(3);
    BenchmarkRequest refused = tail.build();
    Status status = GrpcTestClient.statusOf(assertThrows(Exception.class, () -> client.client.runBenchmark(refused)
        .runWith(Sink.seq(), client.system).toCompletableFuture().get(30, TimeUnit.SECONDS)));
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertTrue(status.getDescription().startsWith("prompt_len: request ")
        && status.getDescription().endsWith("(on_overlength \"skip\" leaves such requests out)"),
        status.getDescription());

    List<BenchmarkEvent> events = client.client.runBenchmark(tail.setOnOverlength("skip").build())
        .runWith(Sink.seq(), client.system).toCompletableFuture().get(120, TimeUnit.SECONDS);
    BenchmarkEvent last = events.get(events.size() - 1);
    assertTrue(last.getReport().getSucceeded(), last.toString());
    JsonNode report = new ObjectMapper().readTree(last.getReport().getReportJson());
    int skipped = report.get("overlength_skipped").asInt();
    assertTrue(skipped > 0 && skipped < 12, report.toString());
    assertEquals(12, report.get("completed").asInt() + skipped, report.toString());
  }

  @Test
  void generateWithoutALoadedModelGetsUnavailable() throws Exception {
    // A coordinator alone (no agents, no fleet) behind the same API.
    try (io.decodefleet.coordinator.node.CoordinatorNode lonely = io.decodefleet.coordinator.node.CoordinatorNode.start(
        "127.0.0.1", 0, List.of(), -1)) {
      DecodeFleetService service = new DecodeFleetService(lonely.system(), lonely.coordinator(), MODEL, LIMITS,
          new ByteTokenizer(), 1, new InFlightLimit(4), (r, o, skipped) -> "{}", RequestObserver.NONE);
      ServerBinding b = Http.get(lonely.system()).newServerAt("127.0.0.1", 0)
          .bind(DecodeFleetHandlerFactory.create(service, lonely.system())).toCompletableFuture().get(30, TimeUnit.SECONDS);
      try (GrpcTestClient c = new GrpcTestClient("127.0.0.1", b.localAddress().getPort())) {
        Status status = GrpcTestClient.statusOf(assertThrows(Exception.class,
            () -> c.generate(prompt(1, 2, 3).setMaxTokens(3).build(), T)));
        assertEquals(Status.Code.UNAVAILABLE, status.getCode());
        assertTrue(status.getDescription().contains("no model is loaded"), status.getDescription());
      }
    }
  }

  @Test
  void sameTokensAsTheInProcessRun() throws Exception {
    // The API adds nothing to the math: a Generate call and a direct Submit give the same tokens.
    int[] ids = {7, 7, 100, 3, 99, 512};
    List<Integer> viaApi = client.generate(prompt(ids).setMaxTokens(5).build(), T).get(5).getSummary()
        .getOutputTokenIdsList();
    List<Integer> again = client.generate(prompt(ids).setMaxTokens(5).build(), T).get(5).getSummary()
        .getOutputTokenIdsList();
    assertArrayEquals(viaApi.stream().mapToInt(Integer::intValue).toArray(),
        again.stream().mapToInt(Integer::intValue).toArray());
  }
}
