package io.decodefleet.coordinator.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.node.EmbeddedCluster;
import io.decodefleet.coordinator.placement.PlacementPolicy;
import io.decodefleet.coordinator.run.BenchmarkSpec;
import io.decodefleet.coordinator.run.RunOutcome;
import io.decodefleet.coordinator.workload.ArrivalProcess;
import io.decodefleet.coordinator.workload.LengthDistribution;
import io.decodefleet.coordinator.workload.WorkloadGenerator;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * A real two-agent CPU cluster on loopback whose coordinator serves {@code /metrics} on its own port
 * (as {@code --metrics-port} does), and whose first agent node runs Pekko Management, as a gpu-agent
 * daemon does: its {@code /metrics} beside {@code /alive} and {@code /ready}.
 */
final class MetricsFleet implements AutoCloseable {
  static final ModelSpec SPEC = new ModelSpec("tiny", 11, 16, 256, 16, 128, 0.0);
  static final HttpClient HTTP = HttpClient.newHttpClient();

  final EmbeddedCluster cluster;
  private final ServerBinding coordinatorMetrics;
  private final int managementPort;

  MetricsFleet() throws Exception {
    managementPort = freePort();
    cluster = EmbeddedCluster.start(2, ConfigFactory.parseMap(Map.of("pekko.management.http.port", managementPort)),
        8L << 20);
    Duration t = Duration.ofSeconds(60);
    Coordinator.FleetStatus status = AskPattern.<Coordinator.Command, Coordinator.FleetStatus>ask(cluster.coordinator(),
        r -> new Coordinator.LoadFleet(2, SPEC, t, r), t, cluster.system().scheduler()).toCompletableFuture()
        .get(70, TimeUnit.SECONDS);
    assertTrue(status instanceof Coordinator.FleetReady, status.toString());
    coordinatorMetrics = cluster.metrics().serve(cluster.system(), "127.0.0.1", 0);
    PekkoManagement.get(cluster.agentSystems().get(0)).start().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** A benchmark of {@code requests} requests released at once; every one must complete. */
  RunOutcome benchmark(int requests, long seed) throws Exception {
    BenchmarkSpec spec = new BenchmarkSpec(2, SPEC, WorkloadGenerator.generate(requests,
        new ArrivalProcess.AllAtOnce(), new LengthDistribution.Uniform(5, 40), new LengthDistribution.Uniform(3, 12),
        1024, 2048, seed), PlacementPolicy.DEFAULT, 0, Duration.ofSeconds(60));
    RunOutcome outcome = AskPattern.<Coordinator.Command, RunOutcome>ask(cluster.coordinator(),
        replyTo -> new Coordinator.RunBenchmark(spec, null, replyTo), Duration.ofMinutes(2),
        cluster.system().scheduler()).toCompletableFuture().get(2, TimeUnit.MINUTES);
    assertNull(outcome.error());
    assertEquals(requests, outcome.result().completed());
    return outcome;
  }

  /** host:port of the coordinator's /metrics. */
  String coordinatorTarget() {
    return "127.0.0.1:" + coordinatorMetrics.localAddress().getPort();
  }

  String coordinatorMetrics() throws Exception {
    return get("http://" + coordinatorTarget() + "/metrics");
  }

  String agentMetrics() throws Exception {
    return get("http://127.0.0.1:" + managementPort + "/metrics");
  }

  /** The body of a GET that must answer 200. */
  static String get(String url) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET()
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), url + ": " + r.body());
    return r.body();
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    coordinatorMetrics.unbind();
    cluster.close();
  }
}
