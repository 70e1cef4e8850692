package io.decodefleet.coordinator.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.ClusterConfig;
import io.decodefleet.agent.ClusterTls;
import io.decodefleet.agent.NodeGuardian;
import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.cli.ClusterTlsOptions;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.run.BenchmarkSpec;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import io.decodefleet.coordinator.run.RunOutcome;
import io.decodefleet.coordinator.security.ThrowawayPki;
import io.decodefleet.coordinator.workload.ArrivalProcess;
import io.decodefleet.coordinator.workload.LengthDistribution;
import io.decodefleet.coordinator.workload.WorkloadGenerator;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cluster over TLS with mutual authentication (--cluster-tls), on loopback: a coordinator node and
 * two agent nodes holding a certificate of the cluster's CA form the cluster and serve requests; a
 * node whose certificate the CA never signed is refused at the handshake and never counted.
 */
class ClusterTlsTest {
  private static ThrowawayPki pki;
  private static ClusterTls tls;
  private static EmbeddedCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    pki = ThrowawayPki.shared();
    tls = options(pki.nodeKeyStore()).resolve(Map.of());
    cluster = EmbeddedCluster.start(2, tls.config(), 8L << 20);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  private static ClusterTlsOptions options(Path keyStore) {
    ClusterTlsOptions o = new ClusterTlsOptions();
    o.enabled = true;
    o.keyStore = keyStore;
    o.keyStorePasswordFile = pki.passwordFile();
    o.trustStore = pki.trustStore();
    o.trustStorePasswordFile = pki.passwordFile();
    return o;
  }

  @Test
  void nodesWithTheClustersCertificatesFormTheClusterOverTlsAndServeRequests() throws Exception {
    for (ActorSystem<?> node : List.of(cluster.coordinatorSystem(), cluster.agentSystems().get(0))) {
      assertEquals("tls-tcp", node.settings().config().getString("pekko.remote.artery.transport"));
    }
    var requests = WorkloadGenerator.generate(6, new ArrivalProcess.AllAtOnce(), new LengthDistribution.Uniform(5, 30),
        new LengthDistribution.Uniform(3, 10), 1024, 2048, 5);
    RunOutcome outcome = AskPattern.<Coordinator.Command, RunOutcome>ask(cluster.coordinator(),
        replyTo -> new Coordinator.RunBenchmark(new BenchmarkSpec(2, new ModelSpec("tiny", 7, 16, 0, 8, 64, 0.0),
            requests, "round-robin", 0, Duration.ofSeconds(60)), null, replyTo), Duration.ofMinutes(2),
        cluster.coordinatorSystem().scheduler()).toCompletableFuture().get(2, TimeUnit.MINUTES);
    assertNull(outcome.error());
    assertEquals(6, outcome.result().completed());
    assertEquals(2, outcome.result().agents().size(), "both agents served over TLS");
  }

  @Test
  void theClusterPortCompletesAHandshakeOnlyWithACertificateOfTheCluster() throws Exception {
    Address coordinator = Cluster.get(cluster.coordinatorSystem()).selfMember().address();
    int port = coordinator.getPort().get();
    assertTrue(accepts(pki.nodeKeyStore(), port), "the cluster's own certificate");
    assertFalse(accepts(pki.strangerKeyStore(), port), "a certificate the trust store does not vouch for");
    assertFalse(accepts(null, port), "no certificate at all");
  }

  @Test
  void aNodeWhoseCertificateTheClusterDoesNotTrustCannotJoinAndIsNotCounted() throws Exception {
    Address seed = Cluster.get(cluster.coordinatorSystem()).selfMember().address();
    ClusterTls strangerTls = options(pki.strangerKeyStore()).resolve(Map.of());
    ActorSystem<NodeGuardian.Command> stranger = agentNode("stranger-0", strangerTls);
    ActorSystem<NodeGuardian.Command> late = null;
    try {
      Cluster.get(stranger).manager().tell(Join.create(seed));
      // A trusted node asking to join after the stranger did is let in: the door is open, only not to it.
      late = agentNode("late-0", tls);
      Cluster.get(late).manager().tell(Join.create(seed));
      ClusterSnapshot state = awaitAgents(Set.of("agent-0", "agent-1", "late-0"));
      Set<String> members = new java.util.HashSet<>();
      Cluster.get(cluster.coordinatorSystem()).state().getMembers().forEach(m -> members.add(m.address().toString()));
      String strangerAddress = Cluster.get(stranger).selfMember().address().toString();
      assertTrue(!members.contains(strangerAddress), "the stranger is a member: " + members);
      assertEquals(4, members.size(), members.toString());
      assertTrue(state.agents().stream().noneMatch(a -> a.agentId().equals("stranger-0")), state.agents().toString());
      assertTrue(Cluster.get(stranger).selfMember().status() != MemberStatus.up(), "the stranger thinks it is Up");
      // The coordinator counts three agents and no fourth: a world size of 4 is not there.
      Coordinator.FleetStatus four = AskPattern.<Coordinator.Command, Coordinator.FleetStatus>ask(cluster.coordinator(),
          r -> new Coordinator.LoadFleet(4, new ModelSpec("tiny", 7, 16, 0, 8, 64, 0.0), Duration.ofSeconds(2), r),
          Duration.ofSeconds(30), cluster.coordinatorSystem().scheduler()).toCompletableFuture().get(40, TimeUnit.SECONDS);
      assertTrue(four instanceof Coordinator.FleetFailed f && f.reason().contains("3 of 4"), four.toString());
    } finally {
      // Clean-up, best effort as EmbeddedCluster.close is: the coordinator downs the late node (no leave
      // handshake to wait for), then both stop. A node that does not stop in time is left to the JVM
      // with a thread dump on stderr; the test's assertions above are what it checks.
      if (late != null) {
        Cluster.get(cluster.coordinatorSystem()).manager().tell(new Down(Cluster.get(late).selfMember().address()));
      }
      stranger.terminate();
      if (late != null) late.terminate();
      awaitStopped(stranger, "the stranger");
      if (late != null) awaitStopped(late, "the late node");
    }
  }

  private static void awaitStopped(ActorSystem<?> node, String label) {
    try {
      node.getWhenTerminated().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      StringBuilder dump = new StringBuilder(label + " did not stop within 120 s (" + e + "); threads:\n");
      Thread.getAllStackTraces().forEach((t, stack) -> {
        dump.append(t.getName()).append(" ").append(t.getState()).append('\n');
        for (StackTraceElement frame : stack) dump.append("    at ").append(frame).append('\n');
      });
      System.err.print(dump);
    }
  }

  private static ActorSystem<NodeGuardian.Command> agentNode(String id, ClusterTls nodeTls) {
    return ActorSystem.create(NodeGuardian.create(List.of(new NodeGuardian.DeviceSlot(id, "cpu", "cpu",
        () -> new CpuBackend(8L << 20)))), ClusterConfig.SYSTEM_NAME, ClusterConfig.node("127.0.0.1", 0,
        List.of("agent"), nodeTls.config()));
  }

  /** Waits for the coordinator to have registered exactly these agents. */
  private static ClusterSnapshot awaitAgents(Set<String> ids) throws Exception {
    ClusterSnapshot state = null;
    for (int i = 0; i < 600; i++) {
      state = AskPattern.<Coordinator.Command, ClusterSnapshot>ask(cluster.coordinator(), Coordinator.GetClusterState::new,
          Duration.ofSeconds(10), cluster.coordinatorSystem().scheduler()).toCompletableFuture().get(15, TimeUnit.SECONDS);
      if (state.agents().stream().map(AgentSnapshot::agentId).collect(Collectors.toSet()).equals(ids)) return state;
      Thread.sleep(100);
    }
    throw new AssertionError("agents never became " + ids + ": " + state);
  }

  /**
   * Whether the cluster port takes a TLS connection showing {@code keyStore}'s certificate (null: none):
   * the server either refuses the certificate with a TLS alert, or reads what follows the handshake
   * (here not Artery's connection header, so it hangs up).
   */
  private static boolean accepts(Path keyStore, int port) throws Exception {
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    if (keyStore != null) {
      keys.init(load(keyStore), ThrowawayPki.PASSWORD.toCharArray());
    }
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(load(pki.trustStore()));
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(keyStore != null ? keys.getKeyManagers() : null, trust.getTrustManagers(), null);
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.startHandshake();
      // TLS 1.3: the server checks the client's certificate after the client's Finished; a refusal
      // arrives as an alert, and the server closes. Read first, before sending anything: writing
      // first could race that close and see a reset, which would look like Artery's own reset of a
      // header it cannot read. A server that accepted sends nothing (Artery waits for the header).
      socket.setSoTimeout(3_000);
      try {
        int first = socket.getInputStream().read();
        throw new AssertionError("the cluster port sent " + first + " before any header");
      } catch (java.net.SocketTimeoutException quiet) {
        // no alert: past TLS
      }
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(new byte[5]);
      socket.getOutputStream().flush();
      assertEquals(-1, socket.getInputStream().read(), "Artery answered a header that is not its own");
      return true;
    } catch (SSLException e) {
      return false;
    } catch (java.net.SocketException e) {
      return true; // reset by Artery after the header it could not read, once TLS had been accepted
    }
  }

  private static KeyStore load(Path store) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, ThrowawayPki.PASSWORD.toCharArray());
    }
    return ks;
  }
}
