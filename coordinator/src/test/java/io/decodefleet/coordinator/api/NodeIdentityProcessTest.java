package io.decodefleet.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.api.AgentState;
import io.decodefleet.api.ClusterState;
import io.decodefleet.api.ClusterStateRequest;
import io.decodefleet.api.GenerateEvent;
import io.decodefleet.api.GenerateRequest;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real processes: how nodes start and who they are. A daemon that gives the agent id of a live
 * daemon is refused with one line naming both nodes and exits 2 while the first keeps serving; a
 * daemon started without --node-name gets an id of its own; a port that cannot be bound ends a daemon
 * or {@code coordinator serve} with one line and exit code 2, not a stack trace.
 */
class NodeIdentityProcessTest {
  private static final Duration START = Duration.ofSeconds(60);
  private static final Pattern AT = Pattern.compile("agents at (pekko://\\S+) ");
  private static final List<NodeProcess> started = new ArrayList<>();
  private static int clusterPort;
  private static NodeProcess firstTwin;
  private static GrpcTestClient client;

  @BeforeAll
  static void startCoordinatorAndFirstDaemon() throws Exception {
    clusterPort = NodeProcess.freePort();
    int grpcPort = NodeProcess.freePort();
    NodeProcess coordinator = start("coordinator", "io.decodefleet.coordinator.cli.CoordinatorCli", "serve",
        "--world-size", "1", "--grpc-port", Integer.toString(grpcPort), "--cluster-port", Integer.toString(clusterPort),
        "--agent-timeout", "60", "--http-port", "-1");
    coordinator.awaitLine(l -> l.contains("waiting for 1 agents"), START);
    firstTwin = daemon("twin-first", "--node-name", "twin");
    coordinator.awaitLine(l -> l.contains("serving decodefleet.api.v1.DecodeFleet"), START);
    client = new GrpcTestClient("127.0.0.1", grpcPort);
  }

  @AfterAll
  static void stopAll() {
    if (client != null) client.close();
    started.forEach(NodeProcess::close);
  }

  private static NodeProcess start(String name, String mainClass, String... args) throws Exception {
    NodeProcess p = NodeProcess.start(name, mainClass, args);
    started.add(p);
    return p;
  }

  /** A daemon of one CPU agent joining the coordinator, with {@code extra} options. */
  private static NodeProcess daemon(String name, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("--seed-nodes", "127.0.0.1:" + clusterPort, "--cluster-port", "0",
        "--management-port", Integer.toString(NodeProcess.freePort()), "--devices", "cpu"));
    args.addAll(List.of(extra));
    return start(name, "io.decodefleet.agent.cli.GpuAgentCli", args.toArray(String[]::new));
  }

  /** The cluster address a daemon printed at start-up. */
  private static String addressOf(NodeProcess daemon) throws InterruptedException {
    Matcher m = AT.matcher(daemon.awaitLine(l -> AT.matcher(l).find(), START));
    assertTrue(m.find());
    return m.group(1);
  }

  private static ClusterState state() throws Exception {
    return client.client.getClusterState(ClusterStateRequest.getDefaultInstance()).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  private static void assertNoStackTrace(List<String> lines) {
    for (String l : lines) {
      assertFalse(l.startsWith("\tat ") || l.contains("Exception"), "no stack trace: " + String.join("\n", lines));
    }
  }

  @Test
  void aSecondDaemonWithTheSameNodeNameIsRefusedNamingBothNodesWhileTheFirstServes() throws Exception {
    String first = addressOf(firstTwin);
    NodeProcess second = daemon("twin-second", "--node-name", "twin");
    String secondAddress = addressOf(second);

    assertEquals(2, second.awaitExit(START), second.output());
    List<String> errors = second.errors();
    assertEquals(1, errors.size(), "one line on stderr: " + errors);
    String line = errors.get(0);
    assertTrue(line.startsWith("gpu-agent: agent id twin-0 "), line);
    assertTrue(line.contains(first) && line.contains(secondAddress), "names both nodes: " + line);

    // The first keeps its id and its work.
    List<AgentState> twins = state().getAgentsList().stream().filter(a -> a.getAgentId().equals("twin-0")).toList();
    assertEquals(1, twins.size(), twins.toString());
    assertEquals(first, twins.get(0).getNodeAddress());
    assertEquals(AgentState.Status.UP, twins.get(0).getStatus());
    List<GenerateEvent> events = client.generate(GenerateRequest.newBuilder().setPromptLen(8).setMaxTokens(4)
        .build(), Duration.ofSeconds(30));
    assertEquals("twin-0", events.get(0).getToken().getAgentId());
  }

  @Test
  void aDaemonWithoutNodeNameIsNamedAfterItsHostAndClusterPort() throws Exception {
    NodeProcess unnamed = daemon("unnamed");
    String address = addressOf(unnamed);
    String port = address.substring(address.lastIndexOf(':') + 1);
    String id = InetAddress.getLocalHost().getHostName() + "-" + port + "-0";
    unnamed.awaitLine(l -> l.startsWith("gpu-agent " + id.substring(0, id.length() - 2) + ": "), START);
    long deadline = System.nanoTime() + START.toNanos();
    AgentState registered = null;
    while (registered == null && System.nanoTime() < deadline) {
      registered = state().getAgentsList().stream().filter(a -> a.getAgentId().equals(id)).findFirst().orElse(null);
      if (registered == null) Thread.sleep(200);
    }
    assertTrue(registered != null, "registered as " + id + ": " + state());
    assertEquals(address, registered.getNodeAddress());
    assertEquals(AgentState.Status.UP, registered.getStatus());
  }

  @Test
  void aDaemonWhoseManagementPortIsTakenExitsWithOneLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      NodeProcess d = start("management-taken", "io.decodefleet.agent.cli.GpuAgentCli", "--seed-nodes",
          "127.0.0.1:" + clusterPort, "--cluster-port", "0", "--management-port",
          Integer.toString(taken.getLocalPort()), "--devices", "cpu");
      assertEquals(2, d.awaitExit(START), d.output());
      assertEquals(List.of("gpu-agent: cannot bind the management port (/alive, /ready, /metrics) to 127.0.0.1:"
          + taken.getLocalPort() + ": Address already in use"), d.errors());
    }
  }

  @Test
  void aDaemonWhoseClusterPortIsTakenExitsWithOneLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      NodeProcess d = start("cluster-taken", "io.decodefleet.agent.cli.GpuAgentCli", "--seed-nodes",
          "127.0.0.1:" + clusterPort, "--cluster-port", Integer.toString(taken.getLocalPort()), "--management-port",
          Integer.toString(NodeProcess.freePort()), "--devices", "cpu");
      assertEquals(2, d.awaitExit(START), d.output());
      assertEquals(List.of("gpu-agent: cannot bind the cluster port to 127.0.0.1:" + taken.getLocalPort()
          + ": Address already in use"), d.errors());
    }
  }

  @Test
  void serveWhoseMetricsOrClusterPortIsTakenExitsWithOneLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      String port = Integer.toString(taken.getLocalPort());
      NodeProcess metrics = start("serve-metrics-taken", "io.decodefleet.coordinator.cli.CoordinatorCli", "serve",
          "--world-size", "1", "--http-port", "-1", "--metrics-port", port);
      NodeProcess cluster = start("serve-cluster-taken", "io.decodefleet.coordinator.cli.CoordinatorCli", "serve",
          "--world-size", "1", "--http-port", "-1", "--cluster-port", port);
      assertEquals(2, metrics.awaitExit(START), metrics.output());
      assertEquals(List.of("coordinator serve: cannot bind /metrics (--metrics-port) to 127.0.0.1:" + port
          + ": Address already in use"), metrics.errors());
      assertEquals(2, cluster.awaitExit(START), cluster.output());
      assertEquals(List.of("coordinator serve: cannot bind the cluster port to 127.0.0.1:" + port
          + ": Address already in use"), cluster.errors());
      assertNoStackTrace(metrics.errors());
    }
  }
}
