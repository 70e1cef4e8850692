package io.decodefleet.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.decodefleet.api.AgentState;
import io.decodefleet.api.BenchmarkEvent;
import io.decodefleet.api.BenchmarkRequest;
import io.decodefleet.api.ClusterState;
import io.decodefleet.api.ClusterStateRequest;
import io.decodefleet.api.GenerateEvent;
import io.decodefleet.api.GenerateRequest;
import io.decodefleet.api.GenerateSummary;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Real processes: `coordinator serve` and three `gpu-agent` daemons launched from the built
 * artifacts, a gRPC client over TCP. One daemon is killed with SIGKILL mid-run (GetClusterState then
 * shows its agent LOST, running nothing) and another is sent SIGTERM mid-run; every stream must still
 * deliver exactly the tokens of a run without failures.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProcessClusterTest {
  private static final Duration T = Duration.ofSeconds(120);
  private static final int STREAMS = 9;
  private static final int MAX_TOKENS = 600;
  private static NodeProcess coordinator;
  private static final Map<String, NodeProcess> daemons = new HashMap<>();
  private static GrpcTestClient client;
  private static List<List<Integer>> baseline;

  @BeforeAll
  static void startCluster() throws Exception {
    int clusterPort = NodeProcess.freePort();
    int grpcPort = NodeProcess.freePort();
    coordinator = NodeProcess.start("coordinator", "io.decodefleet.coordinator.cli.CoordinatorCli", "serve",
        "--world-size", "3", "--grpc-port", Integer.toString(grpcPort), "--cluster-port", Integer.toString(clusterPort),
        "--agent-timeout", "90", "--http-port", "0");
    coordinator.awaitLine(l -> l.contains("waiting for 3 agents"), Duration.ofSeconds(60));
    for (String node : List.of("node-a", "node-b", "node-c")) {
      daemons.put(node, NodeProcess.start(node, "io.decodefleet.agent.cli.GpuAgentCli", "--seed-nodes",
          "127.0.0.1:" + clusterPort, "--cluster-port", "0", "--management-port", Integer.toString(NodeProcess.freePort()),
          "--node-name", node, "--cpu-agents", "1", "--devices", "cpu"));
    }
    coordinator.awaitLine(l -> l.contains("serving decodefleet.api.v1.DecodeFleet"), Duration.ofSeconds(100));
    client = new GrpcTestClient("127.0.0.1", grpcPort);
  }

  @AfterAll
  static void stopCluster() {
    if (client != null) client.close();
    daemons.values().forEach(NodeProcess::close);
    if (coordinator != null) coordinator.close();
  }

  private static GenerateRequest request(int i) {
    // EOS is ignored: each stream must run to exactly MAX_TOKENS tokens for the token accounting below.
    return GenerateRequest.newBuilder().setPromptLen(40 + 7 * i).setSeed(100 + i).setMaxTokens(MAX_TOKENS)
        .setSampling(io.decodefleet.api.SamplingParams.newBuilder().setIgnoreEos(true)).build();
  }

  /** Runs every stream concurrently; {@code onEvent} sees each token event as it arrives. */
  private static List<List<GenerateEvent>> runStreams(Consumer<GenerateEvent> onEvent) throws Exception {
    List<CompletableFuture<List<GenerateEvent>>> calls = new ArrayList<>();
    for (int i = 0; i < STREAMS; i++) {
      calls.add(client.client.generate(request(i)).wireTap(onEvent::accept).runWith(Sink.seq(), client.system)
          .toCompletableFuture());
    }
    List<List<GenerateEvent>> out = new ArrayList<>();
    for (CompletableFuture<List<GenerateEvent>> c : calls) out.add(c.get(T.toSeconds(), TimeUnit.SECONDS));
    return out;
  }

  /** Every streamed token exactly once and in order: indices are consecutive, the summary agrees. */
  private static List<Integer> tokensOf(List<GenerateEvent> events) {
    List<Integer> tokens = new ArrayList<>();
    for (GenerateEvent e : events) {
      if (e.hasToken()) {
        assertEquals(tokens.size(), e.getToken().getIndex(), "no gap and no duplicate");
        tokens.addAll(e.getToken().getTokenIdsList());
      }
    }
    GenerateSummary summary = events.get(events.size() - 1).getSummary();
    assertEquals(tokens, summary.getOutputTokenIdsList());
    assertEquals(MAX_TOKENS, tokens.size());
    return tokens;
  }

  private static ClusterState state() throws Exception {
    return client.client.getClusterState(ClusterStateRequest.getDefaultInstance()).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  @Test
  @Order(1)
  void baselineStreamsCompleteOnAllThreeDaemons() throws Exception {
    List<List<GenerateEvent>> runs = runStreams(e -> {});
    baseline = new ArrayList<>();
    for (List<GenerateEvent> run : runs) baseline.add(tokensOf(run));
    ClusterState s = state();
    assertEquals(3, s.getAgentsCount());
    for (AgentState a : s.getAgentsList()) assertEquals(AgentState.Status.UP, a.getStatus(), a.toString());
  }

  @Test
  @Order(2)
  void sigkillOfADaemonMidRunLosesNoTokenAndDuplicatesNone() throws Exception {
    AtomicBoolean killed = new AtomicBoolean();
    List<List<GenerateEvent>> runs = runStreams(e -> {
      if (e.getToken().getAgentId().equals("node-b-0") && e.getToken().getIndex() >= 20 && killed.compareAndSet(false,
          true)) {
        daemons.get("node-b").kill();
      }
    });
    assertTrue(killed.get(), "node-b served no stream");
    int migrated = 0;
    for (int i = 0; i < STREAMS; i++) {
      assertEquals(baseline.get(i), tokensOf(runs.get(i)), "stream " + i);
      migrated += runs.get(i).get(runs.get(i).size() - 1).getSummary().getMigrations();
    }
    assertTrue(migrated >= 1, "the killed daemon's streams were re-placed");
    ClusterState s = state();
    assertEquals(1, s.getAgentsLost());
    assertTrue(s.getMigrations() >= migrated);
    // The killed daemon's agent is shown lost, running nothing; the others stay up.
    for (AgentState a : s.getAgentsList()) {
      boolean killedOne = a.getAgentId().equals("node-b-0");
      assertEquals(killedOne ? AgentState.Status.LOST : AgentState.Status.UP, a.getStatus(), a.toString());
      if (killedOne) assertEquals(List.of(0, 0, 0), List.of(a.getRunning(), a.getWaiting(), a.getInFlight()));
    }
    assertEquals(s.getAgentsLost(), s.getAgentsList().stream().filter(a -> a.getStatus() == AgentState.Status.LOST)
        .count());
  }

  @Test
  @Order(3)
  void sigtermDrainsADaemonWhichExitsZeroAndItsStreamsContinue() throws Exception {
    AtomicBoolean terminated = new AtomicBoolean();
    CompletableFuture<Integer> exit = new CompletableFuture<>();
    List<List<GenerateEvent>> runs = runStreams(e -> {
      if (e.getToken().getAgentId().equals("node-c-0") && e.getToken().getIndex() >= 20 && terminated.compareAndSet(
          false, true)) {
        CompletableFuture.runAsync(() -> {
          try {
            exit.complete(daemons.get("node-c").terminate(Duration.ofSeconds(60)));
          } catch (Throwable t) {
            exit.completeExceptionally(t);
          }
        });
      }
    });
    assertTrue(terminated.get(), "node-c served no stream");
    assertEquals(0, exit.get(90, TimeUnit.SECONDS));
    int migrated = 0;
    for (int i = 0; i < STREAMS; i++) {
      assertEquals(baseline.get(i), tokensOf(runs.get(i)), "stream " + i);
      migrated += runs.get(i).get(runs.get(i).size() - 1).getSummary().getMigrations();
    }
    assertTrue(migrated >= 1, "the drained daemon's streams were handed back and re-placed");
  }

  @Test
  @Order(4)
  void benchmarkOverGrpcCompletesOnTheSurvivor() throws Exception {
    List<BenchmarkEvent> events = client.client.runBenchmark(BenchmarkRequest.newBuilder().setNumRequests(6)
        .setPromptLen("16:48").setOutputLen("8:24").setSeed(9).build()).runWith(Sink.seq(), client.system)
        .toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
    BenchmarkEvent last = events.get(events.size() - 1);
    assertTrue(last.getReport().getSucceeded(), last.getReport().getReportJson());
    JsonNode report = new ObjectMapper().readTree(last.getReport().getReportJson());
    JsonNode point = report.get("points").get(0);
    assertEquals(6, point.get("completed").asInt());
    assertEquals(0, point.get("failed").asInt());
    assertEquals(6, point.get("agents").get(0).get("requests").asInt() + (point.get("agents").size() > 1
        ? point.get("agents").get(1).get("requests").asInt() + point.get("agents").get(2).get("requests").asInt() : 0));
  }
}
