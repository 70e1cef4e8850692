package io.decodefleet.coordinator.soak;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The soak's cluster on loopback, every node a real OS process ({@link ChildProcess}): {@code
 * coordinators} {@code coordinator serve} nodes and {@code daemons} {@code gpu-agent} daemons of one
 * CPU agent each, all serving the {@code tiny} model. A coordinator's ports are chosen once, so one
 * restarted after a fault comes back where its clients and peers look for it; a daemon's cluster port
 * is any free one at each start (its management port is fixed): the first coordinator founds the
 * cluster, the others and every restart join through the coordinators that are up, daemons join
 * through all coordinators.
 */
final class SoakCluster implements AutoCloseable {
  /** Joining, loading the model and binding the APIs, on a machine busy with the rest of the soak. */
  static final Duration START_TIMEOUT = Duration.ofSeconds(180);
  /** A daemon's SIGTERM drains its sequences first (its --drain-timeout is 60 s). */
  static final Duration EXIT_TIMEOUT = Duration.ofSeconds(90);
  static final String SERVING_GRPC = "serving decodefleet.api.v1.DecodeFleet";
  static final String SERVING_HTTP = "serving the OpenAI API";

  /** One node of the cluster across its restarts: the same name, role and ports every time. */
  static final class Node {
    final String name;
    final boolean coordinator;
    final int clusterPort;
    final int grpcPort;
    final int httpPort;
    final int managementPort;
    private final List<ChildProcess> incarnations = new ArrayList<>();

    private Node(String name, boolean coordinator, int clusterPort, int grpcPort, int httpPort, int managementPort) {
      this.name = name;
      this.coordinator = coordinator;
      this.clusterPort = clusterPort;
      this.grpcPort = grpcPort;
      this.httpPort = httpPort;
      this.managementPort = managementPort;
    }

    /** The process now (or last) running this node. */
    synchronized ChildProcess process() {
      return incarnations.get(incarnations.size() - 1);
    }

    synchronized List<ChildProcess> incarnations() {
      return List.copyOf(incarnations);
    }

    private synchronized ChildProcess started(ChildProcess p) {
      incarnations.add(p);
      return p;
    }

    private synchronized int nextIncarnation() {
      return incarnations.size() + 1;
    }

    String seedAddress() {
      return "127.0.0.1:" + clusterPort;
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private final Path logDir;
  private final SoakRun.MainClasses mains;
  private final int worldSize;
  private final List<Node> coordinators = new ArrayList<>();
  private final List<Node> daemons = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** Set by {@link #close}: no node is started any more. */
  private volatile boolean closed;
  /** Kills every node if this JVM ends first (Ctrl-C, SIGTERM), so no node outlives the soak. */
  private final Thread killOnExit = new Thread(this::close, "soak-cluster-kill");

  SoakCluster(Path logDir, SoakRun.MainClasses mains, int coordinatorCount, int daemonCount) throws IOException {
    this.logDir = logDir;
    this.mains = mains;
    Runtime.getRuntime().addShutdownHook(killOnExit);
    this.worldSize = daemonCount;
    for (int i = 0; i < coordinatorCount; i++) {
      coordinators.add(new Node("coordinator-" + i, true, freePort(), freePort(), freePort(), -1));
    }
    // A daemon's cluster port is 0 (any free port, a new one at each restart): a port chosen here and
    // bound later by the daemon can be taken meanwhile by one of the many ephemeral connections of the
    // nodes already up, and the daemon would then exit at start.
    for (int i = 0; i < daemonCount; i++) daemons.add(new Node("daemon-" + i, false, 0, -1, -1, freePort()));
  }

  List<Node> coordinators() {
    return List.copyOf(coordinators);
  }

  List<Node> daemons() {
    return List.copyOf(daemons);
  }

  /** Tries of {@link #started}: a port taken between its pick and its bind costs one more. */
  static final int START_ATTEMPTS = 3;

  /**
   * A cluster whose every node has started ({@link #start}). A coordinator's ports are picked free here
   * and bound by its process seconds later, when another process's connection may have taken one: a
   * start that fails on a port already in use is closed and made again on other ports, up to {@link
   * #START_ATTEMPTS} times (each retry says so on {@code out}); any other failure is the soak's.
   */
  static SoakCluster started(Path logDir, SoakRun.MainClasses mains, int coordinatorCount, int daemonCount,
      PrintStream out) throws IOException, InterruptedException {
    for (int attempt = 1; ; attempt++) {
      SoakCluster cluster = new SoakCluster(logDir, mains, coordinatorCount, daemonCount);
      try {
        cluster.start();
        return cluster;
      } catch (IOException e) {
        cluster.close();
        boolean portTaken = e.getMessage() != null && (e.getMessage().contains("Address already in use")
            || e.getMessage().contains("BindException"));
        if (attempt >= START_ATTEMPTS || !portTaken) throw e;
        out.println("soak: a port picked for a node was taken before the node bound it; starting again on other "
            + "ports (" + e.getMessage().lines().findFirst().orElse("") + ")");
      } catch (InterruptedException | RuntimeException e) {
        cluster.close();
        throw e;
      }
    }
  }

  /** Starts every node and waits until each coordinator serves both APIs with the model loaded. */
  void start() throws IOException, InterruptedException {
    for (Node c : coordinators) {
      launch(c).awaitLine(l -> l.contains("waiting for " + worldSize + " agents"), START_TIMEOUT);
    }
    for (Node d : daemons) launch(d);
    for (Node c : coordinators) awaitServing(c.process());
    for (Node d : daemons) awaitReady(d);
  }

  /**
   * Stops {@code node} with SIGKILL ({@code kill}) or SIGTERM, waits for it to exit (a SIGTERM that is
   * not obeyed in {@link #EXIT_TIMEOUT} becomes a SIGKILL, and the failure says so), starts it again and
   * waits until it is ready. Returns null, or why the restart went wrong.
   */
  String restart(Node node, boolean kill) throws IOException, InterruptedException {
    ChildProcess old = node.process();
    String problem = null;
    if (kill) {
      old.kill();
    } else {
      old.terminate();
    }
    OptionalInt code = old.awaitExit(EXIT_TIMEOUT);
    if (code.isEmpty()) {
      old.kill();
      old.awaitExit(EXIT_TIMEOUT);
      problem = old + " did not exit within " + EXIT_TIMEOUT.toSeconds() + " s of SIGTERM";
    } else if (!kill && code.getAsInt() != 0) {
      problem = old + " exited with code " + code.getAsInt() + " after SIGTERM";
    }
    ChildProcess fresh = launch(node);
    if (node.coordinator) {
      awaitServing(fresh);
    } else {
      awaitReady(node);
    }
    return problem;
  }

  /**
   * SIGTERM to every node, daemons first; then SIGKILL to any still running after {@link #EXIT_TIMEOUT}.
   * A node that had exited before is a problem too (it crashed, or its restart failed).
   */
  List<String> stop() throws InterruptedException {
    List<String> problems = new ArrayList<>();
    if (closed) return problems; // close() killed every node already: that is no node's failure
    for (List<Node> group : List.of(daemons, coordinators)) {
      List<Node> running = group.stream().filter(n -> n.process().alive()).toList();
      for (Node n : group) {
        if (!running.contains(n)) problems.add(n.process() + " had exited on its own (code " + n.process().exitCode() + ")");
      }
      for (Node n : running) n.process().terminate();
      for (Node n : running) {
        ChildProcess p = n.process();
        OptionalInt code = p.awaitExit(EXIT_TIMEOUT);
        if (code.isEmpty()) {
          p.kill();
          problems.add(p + " did not exit within " + EXIT_TIMEOUT.toSeconds() + " s of SIGTERM");
        } else if (code.getAsInt() != 0 && code.getAsInt() != 143) {
          problems.add(p + " exited with code " + code.getAsInt() + " after SIGTERM");
        }
      }
    }
    return problems;
  }

  /** Every log file written so far, of every incarnation of every node. */
  List<Path> logs() {
    List<Path> files = new ArrayList<>();
    for (List<Node> group : List.of(coordinators, daemons)) {
      for (Node n : group) {
        for (ChildProcess p : n.incarnations()) {
          files.add(p.stdout());
          files.add(p.stderr());
        }
      }
    }
    return files;
  }

  @Override
  public void close() {
    closed = true;
    for (List<Node> group : List.of(daemons, coordinators)) {
      for (Node n : group) {
        for (ChildProcess p : n.incarnations()) p.kill();
      }
    }
    if (Thread.currentThread() != killOnExit) {
      try {
        Runtime.getRuntime().removeShutdownHook(killOnExit);
      } catch (IllegalStateException e) {
        // the JVM is shutting down: the hook runs (or ran) anyway
      }
    }
  }

  private ChildProcess launch(Node node) throws IOException {
    if (closed) throw new IOException(node.name + " was not started again: the soak is stopping");
    List<String> jvm = new ArrayList<>(List.of("-Xmx512m"));
    if (node.coordinator) jvm.addAll(HeapAfterGc.JVM_OPTIONS);
    return node.started(ChildProcess.start(node.name, node.nextIncarnation(), logDir, jvm,
        node.coordinator ? mains.coordinator() : mains.daemon(), node.coordinator ? coordinatorArgs(node) : daemonArgs(node)));
  }

  private List<String> coordinatorArgs(Node node) {
    List<String> args = new ArrayList<>(List.of("serve", "--model", SoakSettings.MODEL, "--world-size",
        Integer.toString(worldSize), "--cluster-port", Integer.toString(node.clusterPort), "--grpc-port",
        Integer.toString(node.grpcPort), "--http-port", Integer.toString(node.httpPort), "--agent-timeout",
        Long.toString(START_TIMEOUT.toSeconds())));
    // The first start of the first coordinator founds the cluster; every other start joins it through
    // the coordinators that run now.
    List<String> seeds = new ArrayList<>();
    for (Node other : coordinators) {
      if (other != node && !other.incarnations().isEmpty() && other.process().alive()) seeds.add(other.seedAddress());
    }
    if (!seeds.isEmpty()) args.addAll(List.of("--seed-nodes", String.join(",", seeds)));
    return args;
  }

  private List<String> daemonArgs(Node node) {
    List<String> seeds = coordinators.stream().map(Node::seedAddress).toList();
    return List.of("--seed-nodes", String.join(",", seeds), "--cluster-port", Integer.toString(node.clusterPort), "--management-port",
        Integer.toString(node.managementPort), "--node-name", node.name, "--devices", "cpu", "--cpu-agents", "1");
  }

  private static void awaitServing(ChildProcess coordinator) throws IOException, InterruptedException {
    coordinator.awaitLine(l -> l.contains(SERVING_GRPC), START_TIMEOUT);
    coordinator.awaitLine(l -> l.contains(SERVING_HTTP), START_TIMEOUT);
  }

  /** Waits until the daemon's /ready answers 200: in the cluster, its agent registered or loaded. */
  private void awaitReady(Node daemon) throws IOException, InterruptedException {
    ChildProcess p = daemon.process();
    p.awaitLine(l -> l.contains("agents at"), START_TIMEOUT);
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    URI ready = URI.create("http://127.0.0.1:" + daemon.managementPort + "/ready");
    while (System.nanoTime() < deadline) {
      if (!p.alive()) throw new IOException(p + " exited before it was ready; " + p.tail());
      try {
        if (http.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(5)).GET().build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IOException(p + " was not ready within " + START_TIMEOUT.toSeconds() + " s; " + p.tail());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
