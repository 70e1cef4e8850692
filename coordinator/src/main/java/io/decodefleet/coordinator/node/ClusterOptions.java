package io.decodefleet.coordinator.node;

import io.decodefleet.agent.ClusterTls;
import io.decodefleet.agent.cli.ClusterTlsOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Where the coordinator's cluster is: embedded (no seed nodes) or formed with gpu-agent daemons. */
public final class ClusterOptions {
  @Option(names = "--seed-nodes", split = ",", defaultValue = "${env:DECODEFLEET_SEED_NODES}",
      description = "Join the cluster of these seed nodes (host:port,...) and use its gpu-agent daemons instead of "
          + "embedded agents (env DECODEFLEET_SEED_NODES).")
  public List<String> seedNodes = new ArrayList<>();

  @Option(names = "--kubernetes", description = "Join through Cluster Bootstrap (kubernetes-api discovery) "
      + "instead of --seed-nodes.")
  public boolean kubernetes;

  @Option(names = "--bind", defaultValue = "${env:DECODEFLEET_BIND:-127.0.0.1}",
      description = "Address of this coordinator node (default ${DEFAULT-VALUE}).")
  public String bind;

  @Option(names = "--cluster-port", defaultValue = "${env:DECODEFLEET_CLUSTER_PORT:-0}",
      description = "Pekko cluster port of this coordinator node (env DECODEFLEET_CLUSTER_PORT; default ${DEFAULT-VALUE}: any free port; "
          + "daemons give it as --seed-nodes when the coordinator founds the cluster).")
  public int clusterPort;

  @Option(names = "--management-port", defaultValue = "${env:DECODEFLEET_MANAGEMENT_PORT:--1}",
      description = "Pekko Management HTTP port of this node (/alive, /ready); -1: none (default).")
  public int managementPort;

  @Option(names = "--metrics-port", defaultValue = "${env:DECODEFLEET_METRICS_PORT:--1}",
      description = "Serve GET /metrics (Prometheus) on this port of --bind; -1: none (default). coordinator serve "
          + "also serves it on its HTTP API's port.")
  public int metricsPort;

  @Option(names = "--agent-timeout", defaultValue = "60",
      description = "Seconds to wait for agents to join and load the model (default ${DEFAULT-VALUE}).")
  public int agentTimeoutSeconds;

  @Mixin
  public ClusterTlsOptions tlsOptions = new ClusterTlsOptions();

  /** How this node talks to the others, once {@link #validate} has opened the stores. */
  public ClusterTls tls = ClusterTls.plaintext();

  /**
   * Checks the options and opens the cluster TLS stores; a bad value is an {@link IllegalArgumentException}
   * whose message names the option.
   *
   * @param environment the process environment (the store passwords' variables)
   */
  public void validate(Map<String, String> environment) {
    if (kubernetes && !seedNodes.isEmpty()) throw new IllegalArgumentException("--kubernetes and --seed-nodes exclude each other");
    if (kubernetes && managementPort == -1) managementPort = 8558; // bootstrap contact points probe it
    for (String seed : seedNodes) {
      if (!io.decodefleet.agent.ClusterConfig.isSeedNode(seed)) throw new IllegalArgumentException("--seed-nodes: '" + seed + "' is not host:port");
    }
    if (clusterPort < 0 || clusterPort > 65535) throw new IllegalArgumentException("--cluster-port must be in 0..65535, got " + clusterPort);
    if (managementPort < -1 || managementPort > 65535) {
      throw new IllegalArgumentException("--management-port must be in -1..65535, got " + managementPort);
    }
    if (metricsPort < -1 || metricsPort > 65535) {
      throw new IllegalArgumentException("--metrics-port must be in -1..65535, got " + metricsPort);
    }
    if (agentTimeoutSeconds < 1) throw new IllegalArgumentException("--agent-timeout must be >= 1 s, got " + agentTimeoutSeconds);
    tls = tlsOptions.resolve(environment);
  }

  public boolean embedded() {
    return seedNodes.isEmpty() && !kubernetes;
  }

  /** How this node finds the cluster, for messages and the report. */
  public String describe() {
    if (kubernetes) return "Cluster Bootstrap (kubernetes-api discovery)";
    return embedded() ? "embedded" : "seed nodes " + String.join(",", seedNodes);
  }
}
