package io.decodefleet.coordinator.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.admission.OverlengthPolicy;
import io.decodefleet.coordinator.cli.CoordinatorCli;
import io.decodefleet.coordinator.metrics.BenchmarkResult;
import io.decodefleet.coordinator.metrics.ReportJson;
import io.decodefleet.coordinator.metrics.RequestRecord;
import io.decodefleet.coordinator.node.EmbeddedCluster;
import io.decodefleet.coordinator.openai.OpenAiFleet;
import io.decodefleet.coordinator.run.BenchmarkSpec;
import io.decodefleet.coordinator.run.RunOutcome;
import io.decodefleet.coordinator.workload.ArrivalProcess;
import io.decodefleet.coordinator.workload.LengthDistribution;
import io.decodefleet.coordinator.workload.RequestSpec;
import io.decodefleet.coordinator.workload.WorkloadSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Client mode against a real two-agent CPU fleet serving the OpenAI API over a socket, beside the
 * in-process benchmark on an identical fleet of its own: the same workload and seed give the same
 * tokens, and the two clocks measure the same latencies.
 */
class EndpointRunMatchesInProcessTest {
  private static final long SEED = 5;
  private static final int REQUESTS = 16;
  private static final int PROMPT = 32;
  private static final int OUTPUT = 24;
  private static final int ROUNDS = 3;
  /**
   * What {@code coordinator --seed 5 --kv-blocks 256 --max-num-seqs 16 --max-batched-tokens 128} loads:
   * {@code EngineOptions.spec} makes --seed the dummy weights' seed as well as the workload's, so the
   * served fleet and the in-process one get the same weights, and greedy decode the same tokens.
   */
  private static final ModelSpec SPEC = new ModelSpec("tiny", SEED, 16, 256, 16, 128, 0.0);

  private static OpenAiFleet served;
  private static EmbeddedCluster inProcess;
  private static OpenAiEndpoint endpoint;

  @BeforeAll
  static void start() throws Exception {
    served = new OpenAiFleet(64, SPEC);
    inProcess = EmbeddedCluster.start(2, ConfigFactory.empty(), 8L << 20);
    endpoint = new OpenAiEndpoint(served.baseUrl() + "/v1", OpenAiFleet.MODEL, OpenAiFleet.API_KEY);
    // The first runs in a JVM compile the engine's and the HTTP stack's hot paths; no measured run
    // should pay for that.
    List<RequestSpec> warmUp = workload(new ArrivalProcess.AllAtOnce());
    EndpointRun.run(endpoint, warmUp, 0);
    runInProcess(warmUp, 0);
  }

  @AfterAll
  static void stop() {
    if (served != null) served.close();
    if (inProcess != null) inProcess.close();
  }

  /** The workload {@code --num-requests 16 --prompt-len 32 --output-len 24 --seed 5} generates. */
  private static List<RequestSpec> workload(ArrivalProcess arrivals) throws Exception {
    ModelConfig tiny = ModelConfig.preset("tiny");
    return new WorkloadSpec(REQUESTS, LengthDistribution.parse(String.valueOf(PROMPT)),
        LengthDistribution.parse(String.valueOf(OUTPUT)), arrivals, 0)
        .requests(tiny.vocabSize(), LengthLimit.context("tiny", tiny.maxPositionEmbeddings()), OverlengthPolicy.ERROR,
            SEED).requests();
  }

  /** The in-process benchmark, as the CLI's session asks the Coordinator for it. */
  private static RunOutcome runInProcess(List<RequestSpec> requests, int maxConcurrency) throws Exception {
    BenchmarkSpec spec = new BenchmarkSpec(2, SPEC, requests, "least-loaded", maxConcurrency, Duration.ofSeconds(60));
    return AskPattern.<Coordinator.Command, RunOutcome>ask(inProcess.coordinator(),
        replyTo -> new Coordinator.RunBenchmark(spec, null, replyTo), Duration.ofMinutes(3),
        inProcess.coordinatorSystem().scheduler()).toCompletableFuture().get(3, TimeUnit.MINUTES);
  }

  /**
   * Runs the workload against the endpoint and in process, {@link #ROUNDS} times each, interleaved;
   * asserts the same tokens every time and that the two sides' p50 TTFT and TPOT agree.
   *
   * <p>Each side is judged by its least disturbed round, the one with the lowest median E2E: other
   * work on the host's two cores (other builds, the idle fleet's gossip, GC) comes in bursts that
   * land on one run and not the next, and a stalled server that then delivers every token at once
   * shows a long E2E (its TPOT, near 0, would flatter it). Agreement is within 3x or 50 ms apart:
   * both fleets, the HTTP server and the client share two cores; the client's clock adds a loopback
   * HTTP hop, SSE framing and detokenization to every token, and its requests reach the coordinator a
   * few ms apart rather than in one message, so the engine's batches differ; a GC or compiler pause
   * is tens of ms. A wrong definition is far outside this: timing the body's end instead of each
   * event makes TPOT about 0, dividing by chunks instead of tokens or measuring from the wrong origin
   * moves a value by about the output length (24x).
   */
  private static void compare(String label, List<RequestSpec> requests, int maxConcurrency) throws Exception {
    BenchmarkResult client = null;
    BenchmarkResult local = null;
    for (int round = 0; round < ROUNDS; round++) {
      RunOutcome c = EndpointRun.run(endpoint, requests, maxConcurrency);
      RunOutcome l = runInProcess(requests, maxConcurrency);
      assertSameTokens(c, l);
      System.out.println(line(label + ", round " + round, c.result(), l.result()));
      if (client == null || c.result().e2eMs().median() < client.e2eMs().median()) client = c.result();
      if (local == null || l.result().e2eMs().median() < local.e2eMs().median()) local = l.result();
      double lastArrivalS = requests.get(REQUESTS - 1).arrivalNanos() / 1e9;
      assertTrue(c.result().durationSeconds() >= lastArrivalS,
          "released on the schedule: ran " + c.result().durationSeconds() + " s, last arrival " + lastArrivalS);
    }
    System.out.println(line(label + ", least disturbed rounds", client, local));
    agree(label + ": TTFT p50", client.ttftMs().median(), local.ttftMs().median());
    agree(label + ": TPOT p50", client.tpotMs().median(), local.tpotMs().median());
  }

  private static void agree(String what, double client, double local) {
    assertTrue(client <= 3 * local + 50 && local <= 3 * client + 50,
        what + ": client " + client + " ms, in process " + local + " ms");
  }

  private static void assertSameTokens(RunOutcome client, RunOutcome local) {
    assertEquals(REQUESTS, client.result().completed(), () -> firstFailure(client));
    assertEquals(REQUESTS, local.result().completed());
    for (long id = 0; id < REQUESTS; id++) {
      int[] expected = local.outputTokens().get(id);
      assertNotNull(expected, "in process, request " + id);
      assertEquals(OUTPUT, expected.length);
      assertArrayEquals(expected, client.outputTokens().get(id), "request " + id);
    }
    for (RequestRecord r : client.requests()) {
      assertEquals(PROMPT, r.promptTokens());
      assertEquals(OUTPUT, r.outputTokens(), "request " + r.requestId());
      assertEquals(EndpointRun.AGENT_ID, r.agentId());
    }
  }

  private static String firstFailure(RunOutcome o) {
    return o.requests().stream().filter(r -> !r.completed()).map(r -> r.requestId() + ": " + r.failureReason())
        .findFirst().orElse("none failed");
  }

  private static String line(String label, BenchmarkResult client, BenchmarkResult local) {
    return String.format(Locale.ROOT, "%s: TTFT p50 client %.1f / in process %.1f ms, TPOT p50 client %.2f / in "
        + "process %.2f ms, E2E p50 client %.1f / in process %.1f ms", label, client.ttftMs().median(),
        local.ttftMs().median(), client.tpotMs().median(), local.tpotMs().median(), client.e2eMs().median(),
        local.e2eMs().median());
  }

  @Test
  void allAtOnceGivesTheInProcessTokensAndLatencies() throws Exception {
    compare("all at once", workload(new ArrivalProcess.AllAtOnce()), 0);
  }

  @Test
  void atARateWithAConcurrencyLimitGivesTheInProcessTokensAndLatencies() throws Exception {
    compare("20 req/s, at most 4 outstanding", workload(ArrivalProcess.Rate.poisson(20)), 4);
  }

  @Test
  void cliSweepsRequestRatesAgainstTheEndpointIntoClientModeReports(@TempDir Path dir) throws Exception {
    int code = CoordinatorCli.run("--endpoint", served.baseUrl() + "/v1", "--served-model", OpenAiFleet.MODEL,
        "--api-key", OpenAiFleet.API_KEY, "--num-requests", String.valueOf(REQUESTS), "--prompt-len",
        String.valueOf(PROMPT), "--output-len", String.valueOf(OUTPUT), "--seed", String.valueOf(SEED),
        "--request-rates", "inf,40", "--report-dir", dir.toString(), "--quiet");

    assertEquals(0, code);
    JsonNode report = ReportJson.read(dir.resolve("report.json"));
    assertEquals(served.baseUrl() + "/v1", report.get("client").get("endpoint").textValue());
    assertEquals("tiny", report.get("client").get("served_model").textValue());
    assertEquals("endpoint", report.get("backend").textValue());
    assertEquals("request_rate", report.get("sweep").get("axis").textValue());
    assertEquals("[40.0,\"inf\"]", report.get("sweep").get("values").toString());
    assertEquals("[\"inf\",40.0]", report.get("settings").get("request_rates").toString(), "as given");
    assertFalse(report.get("settings").has("request_rate"), "the sweep's, not --request-rate's default");
    for (JsonNode point : report.get("points")) {
      assertEquals(REQUESTS, point.get("completed").intValue());
      assertEquals(REQUESTS * OUTPUT, point.get("total_output_tokens").intValue());
      assertTrue(point.get("median_tpot_ms").doubleValue() > 0);
      assertEquals("endpoint", point.get("agents").get(0).get("agent_id").textValue());
    }
    List<String> results = Files.readAllLines(dir.resolve("results.csv"));
    assertTrue(results.get(0).startsWith("request_rate,"), results.get(0));
    assertEquals(List.of("40", "inf"), results.subList(1, 3).stream().map(r -> r.split(",")[0]).toList());
    List<String> requests = Files.readAllLines(dir.resolve("requests.csv"));
    assertEquals(1 + 2 * REQUESTS, requests.size());
    assertTrue(requests.stream().skip(1).allMatch(r -> r.split(",")[3].equals(String.valueOf(PROMPT))
        && r.split(",")[4].equals(String.valueOf(OUTPUT))), "the CLI's workload is the test's: " + requests.get(1));
  }
}
