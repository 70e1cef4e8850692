package io.decodefleet.agent;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Map;

/** Builds the configuration of one cluster node: our defaults, then the node's own settings. */
public final class ClusterConfig {
  private ClusterConfig() {}

  /** The actor system name every node of a DecodeFleet cluster shares. */
  public static final String SYSTEM_NAME = "decodefleet";

  /** Whether {@code hostPort} can name a seed node ("host:port"). */
  public static boolean isSeedNode(String hostPort) {
    return hostPort.matches("[^:\\s]+:\\d{1,5}");
  }

  /** The Pekko address of the seed node at {@code hostPort}. */
  public static String seedAddress(String hostPort) {
    return "pekko://" + SYSTEM_NAME + "@" + hostPort;
  }

  /**
   * @param host the address to bind and advertise
   * @param port 0 for any free port
   * @param roles e.g. "coordinator" or "agent"
   * @param overrides extra settings, highest precedence (tests use it)
   */
  public static Config node(String host, int port, List<String> roles, Config overrides) {
    Config own = ConfigFactory.parseMap(Map.of(
        "pekko.remote.artery.canonical.hostname", host,
        "pekko.remote.artery.canonical.port", port,
        "pekko.cluster.roles", roles));
    return overrides.withFallback(own)
        .withFallback(ConfigFactory.parseResources(ClusterConfig.class.getClassLoader(), "decodefleet-cluster.conf"))
        .withFallback(ConfigFactory.defaultApplication())
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }
}
