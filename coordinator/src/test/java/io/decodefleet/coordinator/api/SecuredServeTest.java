package io.decodefleet.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.api.ClusterState;
import io.decodefleet.api.ClusterStateRequest;
import io.decodefleet.api.GenerateEvent;
import io.decodefleet.api.GenerateRequest;
import io.decodefleet.coordinator.security.ThrowawayPki;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * `coordinator serve` and a `gpu-agent` daemon as real processes, secured as docs/security.md says:
 * the cluster over TLS with mutual authentication (--cluster-tls), the gRPC and HTTP ports over TLS
 * from PEM files (--tls-cert / --tls-key), and an API key. Clients trust only the test CA.
 */
class SecuredServeTest {
  private static final String KEY = "sk-decodefleet-test";
  private static final Duration T = Duration.ofSeconds(60);

  private static ThrowawayPki pki;
  private static NodeProcess coordinator;
  private static NodeProcess daemon;
  private static int grpcPort;
  private static int httpPort;

  @BeforeAll
  static void start() throws Exception {
    pki = ThrowawayPki.shared();
    int clusterPort = NodeProcess.freePort();
    grpcPort = NodeProcess.freePort();
    httpPort = NodeProcess.freePort();
    List<String> serve = new ArrayList<>(List.of("serve", "--world-size", "1", "--grpc-port", String.valueOf(grpcPort),
        "--http-port", String.valueOf(httpPort), "--cluster-port", String.valueOf(clusterPort), "--agent-timeout", "90",
        "--api-key", KEY, "--tls-cert", pki.serverCertPem().toString(), "--tls-key", pki.serverKeyPem().toString()));
    serve.addAll(pki.clusterOptions(pki.nodeKeyStore()));
    coordinator = NodeProcess.start("coordinator", "io.decodefleet.coordinator.cli.CoordinatorCli",
        serve.toArray(String[]::new));
    coordinator.awaitLine(l -> l.contains("waiting for 1 agents"), T);
    List<String> agent = new ArrayList<>(List.of("--seed-nodes", "127.0.0.1:" + clusterPort, "--cluster-port", "0",
        "--management-port", String.valueOf(NodeProcess.freePort()), "--node-name", "node-a", "--cpu-agents", "1",
        "--devices", "cpu"));
    agent.addAll(pki.clusterOptions(pki.nodeKeyStore()));
    daemon = NodeProcess.start("node-a", "io.decodefleet.agent.cli.GpuAgentCli", agent.toArray(String[]::new));
    coordinator.awaitLine(l -> l.contains("serving the OpenAI API"), Duration.ofSeconds(100));
  }

  @AfterAll
  static void stop() {
    if (daemon != null) daemon.close();
    if (coordinator != null) coordinator.close();
  }

  private static GenerateRequest request() {
    return GenerateRequest.newBuilder().setPromptLen(12).setSeed(3).setMaxTokens(8)
        .setSampling(io.decodefleet.api.SamplingParams.newBuilder().setIgnoreEos(true)).build();
  }

  @Test
  void bothNodesSayTheClusterIsTlsAndNothingWarns() throws Exception {
    String both = coordinator.output() + "\n" + daemon.output();
    assertTrue(coordinator.output().contains("TLS, mutual authentication"), coordinator.output());
    assertTrue(daemon.awaitLine(l -> l.contains("agents at"), T).contains("TLS, mutual authentication"));
    assertTrue(coordinator.output().contains("on https://127.0.0.1:" + httpPort + "/v1 (TLS ("), coordinator.output());
    assertFalse(both.contains("ExposedPorts"), "loopback ports with TLS and a key warn of nothing:\n" + both);
  }

  @Test
  void grpcOverTlsWithTheApiKeyGeneratesOnTheAgentThatJoinedOverTls() throws Exception {
    try (GrpcTestClient tls = new GrpcTestClient("127.0.0.1", grpcPort, pki.caPem(), false)) {
      List<GenerateEvent> events = tls.client.generate().addHeader("authorization", "Bearer " + KEY).invoke(request())
          .runWith(Sink.seq(), tls.system).toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
      GenerateEvent last = events.get(events.size() - 1);
      assertEquals(8, last.getSummary().getOutputTokenIdsCount(), events.toString());
      ClusterState state = tls.client.getClusterState().addHeader("authorization", "Bearer " + KEY)
          .invoke(ClusterStateRequest.getDefaultInstance()).toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertEquals(List.of("node-a-0"), state.getAgentsList().stream().map(a -> a.getAgentId()).toList());
    }
  }

  @Test
  void grpcWithoutTheApiKeyOrWithAWrongOneIsUnauthenticated() throws Exception {
    try (GrpcTestClient tls = new GrpcTestClient("127.0.0.1", grpcPort, pki.caPem(), false)) {
      ExecutionException none = assertThrows(ExecutionException.class, () -> tls.generate(request(), T));
      assertEquals(Status.Code.UNAUTHENTICATED, GrpcTestClient.statusOf(none).getCode());
      ExecutionException wrong = assertThrows(ExecutionException.class, () -> tls.client.generate()
          .addHeader("authorization", "Bearer sk-guess").invoke(request()).runWith(Sink.seq(), tls.system)
          .toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS));
      assertEquals(Status.Code.UNAUTHENTICATED, GrpcTestClient.statusOf(wrong).getCode());
      ExecutionException unary = assertThrows(ExecutionException.class, () -> tls.client.getClusterState(
          ClusterStateRequest.getDefaultInstance()).toCompletableFuture().get(30, TimeUnit.SECONDS));
      assertEquals(Status.Code.UNAUTHENTICATED, GrpcTestClient.statusOf(unary).getCode());
      assertTrue(GrpcTestClient.statusOf(unary).getDescription().contains("authorization: Bearer"));
    }
  }

  @Test
  void aPlaintextGrpcClientGetsNoAnswerFromTheTlsPort() throws Exception {
    try (GrpcTestClient plain = new GrpcTestClient("127.0.0.1", grpcPort, null, true)) {
      ExecutionException e = assertThrows(ExecutionException.class, () -> plain.client.getClusterState()
          .addHeader("authorization", "Bearer " + KEY).invoke(ClusterStateRequest.getDefaultInstance())
          .toCompletableFuture().get(60, TimeUnit.SECONDS));
      assertEquals(Status.Code.UNAVAILABLE, GrpcTestClient.statusOf(e).getCode());
    }
  }

  @Test
  void httpsWithTheCaTrustedAndTheKeyAnswersAndPlaintextToTheTlsPortFails() throws Exception {
    String url = "https://127.0.0.1:" + httpPort;
    Curl models = curl("--cacert", pki.caPem().toString(), "-H", "Authorization: Bearer " + KEY, url + "/v1/models");
    assertEquals(0, models.exit(), models.out());
    assertTrue(models.out().contains("\"object\":\"list\"") && models.out().endsWith("200"), models.out());
    Curl noKey = curl("--cacert", pki.caPem().toString(), url + "/v1/models");
    assertTrue(noKey.out().endsWith("401"), noKey.out());
    Curl untrusted = curl(url + "/health"); // the system's CAs do not know the test CA
    assertEquals(60, untrusted.exit(), "curl: the peer's certificate cannot be verified: " + untrusted.out());
    Curl plaintext = curl("http://127.0.0.1:" + httpPort + "/health");
    assertNotEquals(0, plaintext.exit(), plaintext.out());
    assertFalse(plaintext.out().endsWith("200"), plaintext.out());
  }

  private record Curl(int exit, String out) {}

  private static Curl curl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("curl", "-sS", "--noproxy", "*", "--max-time", "20", "-w", "%{http_code}"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "curl did not finish");
    return new Curl(p.exitValue(), out);
  }
}
