package io.decodefleet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.junit.jupiter.api.Test;

/** A port that cannot be bound is one line naming what it serves, the address and the socket's reason. */
class PortBindingTest {

  private static ServerSocket taken() throws Exception {
    return new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
  }

  @Test
  void aTakenClusterPortStopsTheNodeWithOneLine() throws Exception {
    try (ServerSocket taken = taken()) {
      int port = taken.getLocalPort();
      PortBinding.Unavailable e = assertThrows(PortBinding.Unavailable.class, () -> PortBinding.clusterNode(
          Behaviors.empty(), ClusterConfig.node("127.0.0.1", port, List.of("agent"), ConfigFactory.empty())));
      assertEquals("cannot bind the cluster port to 127.0.0.1:" + port + ": Address already in use", e.getMessage());
      assertEquals(0, e.getStackTrace().length, "no stack trace to print");
    }
  }

  @Test
  void aTakenHttpPortIsOneLine() throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "port-binding-test",
        ConfigFactory.parseString("pekko.actor.provider = local\npekko.loglevel = OFF"));
    try (ServerSocket taken = taken()) {
      int port = taken.getLocalPort();
      PortBinding.Unavailable e = assertThrows(PortBinding.Unavailable.class, () -> PortBinding.bound("the gRPC API",
          "127.0.0.1", port, Http.get(system).newServerAt("127.0.0.1", port).bindSync(r -> HttpResponse.create())));
      assertEquals("cannot bind the gRPC API to 127.0.0.1:" + port + ": Address already in use", e.getMessage());
    } finally {
      system.terminate();
    }
  }

  @Test
  void anyOtherFailureIsItsRootCausesFirstLine() {
    PortBinding.Unavailable e = assertThrows(PortBinding.Unavailable.class, () -> PortBinding.bound("/metrics",
        "10.1.2.3", 9464, CompletableFuture.failedFuture(new IllegalStateException("outer",
            new java.io.IOException("no route\nsecond line")))));
    assertEquals("cannot bind /metrics to 10.1.2.3:9464: no route", e.getMessage());
  }
}
