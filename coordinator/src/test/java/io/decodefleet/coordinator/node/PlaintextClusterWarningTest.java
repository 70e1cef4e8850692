package io.decodefleet.coordinator.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.decodefleet.agent.ExposedPorts;
import io.decodefleet.coordinator.observability.CoordinatorMetrics;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A coordinator node whose cluster port is plaintext says so in one WARN line when it binds an
 * address beyond loopback (here this machine's own network address), naming the address and
 * --cluster-tls; on loopback it says nothing.
 */
class PlaintextClusterWarningTest {

  @Test
  void aPlaintextClusterPortOnTheNetworkWarnsOnceAndOnLoopbackNot() {
    Optional<String> network = networkAddress();
    assumeTrue(network.isPresent(), "this machine has no IPv4 address beyond loopback");
    Logger logger = (Logger) LoggerFactory.getLogger(ExposedPorts.class);
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.start();
    logger.addAppender(seen);
    try {
      try (CoordinatorNode quiet = CoordinatorNode.start("127.0.0.1", 0, List.of(), -1, false, new CoordinatorMetrics())) {
        assertTrue(seen.list.isEmpty(), seen.list.toString());
      }
      try (CoordinatorNode exposed = CoordinatorNode.start(network.get(), 0, List.of(), -1, false,
          new CoordinatorMetrics())) {
        List<String> lines = seen.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("the cluster port on " + exposed.clusterAddress() + " is plaintext"),
            lines.get(0));
        assertTrue(lines.get(0).contains("give --cluster-tls"), lines.get(0));
      }
    } finally {
      logger.detachAppender(seen);
    }
  }

  private static Optional<String> networkAddress() {
    try {
      for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!nic.isUp() || nic.isLoopback()) continue;
        for (InetAddress a : Collections.list(nic.getInetAddresses())) {
          if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
            return Optional.of(a.getHostAddress());
          }
        }
      }
    } catch (java.net.SocketException e) {
      // no interfaces to list
    }
    return Optional.empty();
  }
}
