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
    system = ActorSystem.create(Behaviors.empty(), "grpc-client",
        com.typesafe.config.ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.actor.provider = local"));
    client = DecodeFleetClient.create(GrpcClientSettings.connectToServiceAt(host, port, system).withTls(false), system);
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
