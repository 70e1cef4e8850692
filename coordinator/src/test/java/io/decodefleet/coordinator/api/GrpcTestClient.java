package io.decodefleet.coordinator.api;

import io.decodefleet.api.DecodeFleetClient;
import io.decodefleet.api.GenerateEvent;
import io.decodefleet.api.GenerateRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.apache.pekko.stream.javadsl.Sink;

/** A real gRPC client over a TCP socket, in its own ActorSystem (as any external client would be). */
final class GrpcTestClient implements AutoCloseable {
  final ActorSystem<Void> system;
  final DecodeFleetClient client;

  GrpcTestClient(String host, int port) {
    this(host, port, null, false);
  }

  /**
   * @param caPem with it, TLS trusting only the certificates in this PEM file (and checking the
   *     server's name against {@code host}); without, plaintext
   * @param giveUp stop after two failed connection attempts instead of trying on (a port that does
   *     not speak what the client speaks)
   */
  GrpcTestClient(String host, int port, java.nio.file.Path caPem, boolean giveUp) {
    system = ActorSystem.create(Behaviors.empty(), "grpc-client",
        com.typesafe.config.ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.actor.provider = local"));
    GrpcClientSettings settings = GrpcClientSettings.connectToServiceAt(host, port, system).withTls(caPem != null);
    if (caPem != null) settings = settings.withTrustManager(trusting(caPem));
    if (giveUp) settings = settings.withConnectionAttempts(2);
    client = DecodeFleetClient.create(settings, system);
  }

  private static javax.net.ssl.TrustManager trusting(java.nio.file.Path caPem) {
    try (java.io.InputStream in = java.nio.file.Files.newInputStream(caPem)) {
      java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
      store.load(null, null);
      int i = 0;
      for (java.security.cert.Certificate c : java.security.cert.CertificateFactory.getInstance("X.509")
          .generateCertificates(in)) {
        store.setCertificateEntry("ca-" + i++, c);
      }
      javax.net.ssl.TrustManagerFactory f = javax.net.ssl.TrustManagerFactory.getInstance(
          javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      f.init(store);
      return f.getTrustManagers()[0];
    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
      throw new IllegalStateException("cannot trust " + caPem + ": " + e, e);
    }
  }

  List<GenerateEvent> generate(GenerateRequest request, Duration timeout) throws Exception {
    return client.generate(request).runWith(Sink.seq(), system).toCompletableFuture()
        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The status a failed call ended with. */
  static Status statusOf(Exception e) {
    Throwable t = e instanceof ExecutionException ? e.getCause() : e;
    while (t != null && !(t instanceof StatusRuntimeException)) t = t.getCause();
    if (t == null) throw new AssertionError("not a gRPC status failure: " + e, e);
    return ((StatusRuntimeException) t).getStatus();
  }

  @Override
  public void close() {
    client.close();
    system.terminate();
  }
}
