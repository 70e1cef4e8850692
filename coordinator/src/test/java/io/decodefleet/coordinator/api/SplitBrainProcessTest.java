package io.decodefleet.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.api.AgentState;
import io.decodefleet.api.ClusterState;
import io.decodefleet.api.ClusterStateRequest;
import io.decodefleet.api.GenerateRequest;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The split brain resolver keeps the coordinator's side even where an agent is the oldest node (as on
 * Kubernetes, where the DaemonSet's agents start before any coordinator): a gpu-agent daemon founds
 * the cluster, `coordinator serve` joins it and loads the model there, then the daemon is frozen with
 * SIGSTOP (unreachable, not dead). Keep-oldest by age alone would keep the frozen agent's side and
 * down the coordinator; counting only coordinator nodes, the agent is downed and removed and the
 * coordinator stays: it answers, counts the agent lost, the thawed agent finds itself out and stops,
 * and the coordinator's cluster takes the next daemon that joins.
 */
class SplitBrainProcessTest {
  private static final Duration T = Duration.ofSeconds(60);
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static NodeProcess founder;
  private static NodeProcess coordinator;
  private static NodeProcess next;
  private static GrpcTestClient client;
  private static int coordinatorClusterPort;
  private static int managementPort;
  private static String founderAddress;

  @BeforeAll
  static void startCluster() throws Exception {
    int founderPort = NodeProcess.freePort();
    founder = NodeProcess.start("node-z", "io.decodefleet.agent.cli.GpuAgentCli", "--seed-nodes",
        "127.0.0.1:" + founderPort, "--cluster-port", Integer.toString(founderPort), "--management-port",
        Integer.toString(NodeProcess.freePort()), "--node-name", "node-z", "--cpu-agents", "1", "--devices", "cpu");
    founder.awaitLine(l -> l.contains("1 agents at"), T);
    founderAddress = "pekko://decodefleet@127.0.0.1:" + founderPort;
    int grpcPort = NodeProcess.freePort();
    int clusterPort = NodeProcess.freePort();
    managementPort = NodeProcess.freePort();
    coordinator = NodeProcess.start("coordinator", "io.decodefleet.coordinator.cli.CoordinatorCli", "serve",
        "--world-size", "1", "--seed-nodes", "127.0.0.1:" + founderPort, "--cluster-port",
        Integer.toString(clusterPort), "--grpc-port", Integer.toString(grpcPort), "--http-port", "-1",
        "--management-port", Integer.toString(managementPort), "--agent-timeout", "90");
    coordinator.awaitLine(l -> l.contains("serving decodefleet.api.v1.DecodeFleet"), Duration.ofSeconds(100));
    client = new GrpcTestClient("127.0.0.1", grpcPort);
    coordinatorClusterPort = clusterPort;
  }

  @AfterAll
  static void stopCluster() {
    if (client != null) client.close();
    for (NodeProcess p : new NodeProcess[] {founder, next, coordinator}) {
      if (p != null) p.close();
    }
  }

  private static ClusterState state() throws Exception {
    return client.client.getClusterState(ClusterStateRequest.getDefaultInstance()).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  /** The cluster's members as the coordinator node sees them (Pekko Management's /cluster/members). */
  private static List<String> members() throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort
        + "/cluster/members")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    List<String> nodes = new ArrayList<>();
    new ObjectMapper().readTree(r.body()).get("members").forEach(m -> nodes.add(m.get("node").asText()));
    return nodes;
  }

  @Test
  void theCoordinatorsSideSurvivesWhenTheOldestNodeAnAgentBecomesUnreachable() throws Exception {
    GenerateRequest request = GenerateRequest.newBuilder().setPromptLen(16).setSeed(3).setMaxTokens(8)
        .setSampling(io.decodefleet.api.SamplingParams.newBuilder().setIgnoreEos(true)).build();
    var events = client.generate(request, T);
    assertEquals(8, events.get(events.size() - 1).getSummary().getOutputTokens(), "the fleet on the founder serves");

    assertTrue(members().contains(founderAddress), members().toString());
    founder.freeze();
    // Unreachable is not enough: the resolver must down the frozen founder and the leader remove it.
    long deadline = System.nanoTime() + T.toNanos();
    while (members().contains(founderAddress)) {
      assertTrue(System.nanoTime() < deadline, "the frozen founder was not downed:\n" + coordinator.output());
      Thread.sleep(250);
    }
    ClusterState s = state();
    assertEquals(1, s.getAgentsLost(), s.toString());
    assertFalse(s.getAgentsList().stream().anyMatch(AgentState::getLoaded), s.toString());
    assertTrue(coordinator.alive(), "the coordinator was not downed");

    founder.thaw();
    founder.awaitExit(T); // it finds itself downed and removed, and stops
    next = NodeProcess.start("node-y", "io.decodefleet.agent.cli.GpuAgentCli", "--seed-nodes",
        "127.0.0.1:" + coordinatorClusterPort, "--cluster-port", "0", "--management-port", Integer.toString(NodeProcess.freePort()),
        "--node-name", "node-y", "--cpu-agents", "1", "--devices", "cpu");
    deadline = System.nanoTime() + T.toNanos();
    while (state().getAgentsList().stream().noneMatch(a -> a.getAgentId().equals("node-y-0"))) {
      assertTrue(System.nanoTime() < deadline, "a new daemon joined the coordinator's cluster:\n" + next.output());
      Thread.sleep(250);
    }
    assertTrue(coordinator.alive());
  }
}
