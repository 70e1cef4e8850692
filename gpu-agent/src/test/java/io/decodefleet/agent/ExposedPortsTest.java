package io.decodefleet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A port without protection says so in one WARN line only when it listens beyond loopback. */
class ExposedPortsTest {

  @Test
  void loopbackAddressesAndNamesAreThisMachineOnly() {
    for (String host : List.of("127.0.0.1", "127.0.86.1", "localhost", "::1")) {
      assertTrue(ExposedPorts.loopbackOnly(host), host);
    }
    for (String host : List.of("0.0.0.0", "::", "10.42.3.17", "192.168.1.5")) {
      assertFalse(ExposedPorts.loopbackOnly(host), host);
    }
  }

  @Test
  void aWildcardBindWarnsOnceNamingTheAddressAndTheFlagAndLoopbackStaysQuiet() {
    Logger logger = (Logger) LoggerFactory.getLogger(ExposedPorts.class);
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.start();
    logger.addAppender(seen);
    try {
      assertFalse(ExposedPorts.warnIfExposed("the cluster port", "127.0.0.1", 2552, "is plaintext", "give --cluster-tls"));
      assertTrue(seen.list.isEmpty(), seen.list.toString());
      assertTrue(ExposedPorts.warnIfExposed("the cluster port", "0.0.0.0", 2552,
          "is plaintext and unauthenticated: any host that reaches it can join the cluster", "give --cluster-tls"));
      assertEquals(1, seen.list.size());
      ILoggingEvent e = seen.list.get(0);
      assertEquals(Level.WARN, e.getLevel());
      assertEquals("the cluster port on 0.0.0.0:2552 is plaintext and unauthenticated: any host that reaches it can "
          + "join the cluster; give --cluster-tls (docs/security.md)", e.getFormattedMessage());
    } finally {
      logger.detachAppender(seen);
    }
  }
}
