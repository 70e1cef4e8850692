package io.decodefleet.coordinator.node;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.ClusterConfig;
import io.decodefleet.agent.ClusterTls;
import io.decodefleet.agent.ExposedPorts;
import io.decodefleet.agent.PortBinding;
import io.decodefleet.agent.QuietShutdown;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.ServedFleet;
import io.decodefleet.coordinator.observability.CoordinatorMetrics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * A coordinator node of a cluster whose agents run in {@code gpu-agent} daemons: it joins the given
 * seed nodes (or is the first seed itself when none are given) and may host the Coordinator
 * singleton: it runs on the oldest coordinator node, and moves to the next oldest when that one is
 * lost (downed by the split brain resolver) or leaves.
 */
public final class CoordinatorNode implements ClusterHandle {
  private final ActorSystem<Void> system;
  private final ActorRef<Coordinator.Command> coordinator;
  private final CoordinatorMetrics metrics;

  private CoordinatorNode(ActorSystem<Void> system, ActorRef<Coordinator.Command> coordinator,
      CoordinatorMetrics metrics) {
    this.system = system;
    this.coordinator = coordinator;
    this.metrics = metrics;
  }

  /**
   * @param seedNodes "host:port" of seed nodes; empty: this node founds the cluster
   * @param managementPort Pekko Management HTTP port, or -1 for none
   */
  public static CoordinatorNode start(String bind, int port, List<String> seedNodes, int managementPort) {
    return start(bind, port, seedNodes, managementPort, false);
  }

  /**
   * @param kubernetesBootstrap join through Cluster Bootstrap (kubernetes-api discovery) instead of
   *     seed nodes; needs the management port
   */
  public static CoordinatorNode start(String bind, int port, List<String> seedNodes, int managementPort,
      boolean kubernetesBootstrap) {
    return start(bind, port, seedNodes, managementPort, kubernetesBootstrap, new CoordinatorMetrics());
  }

  /**
   * As {@link #start(String, int, List, int, boolean)}, the coordinator feeding {@code metrics}.
   *
   * @throws PortBinding.Unavailable with one line when the cluster or the management port cannot be
   *     bound (the node is stopped again)
   */
  public static CoordinatorNode start(String bind, int port, List<String> seedNodes, int managementPort,
      boolean kubernetesBootstrap, CoordinatorMetrics metrics) {
    return start(bind, port, seedNodes, managementPort, kubernetesBootstrap, metrics, ClusterTls.plaintext());
  }

  /**
   * As {@link #start(String, int, List, int, boolean, CoordinatorMetrics)}, talking to the other nodes
   * as {@code tls} says; a plaintext cluster port beyond loopback is said in one WARN line.
   */
  public static CoordinatorNode start(String bind, int port, List<String> seedNodes, int managementPort,
      boolean kubernetesBootstrap, CoordinatorMetrics metrics, ClusterTls tls) {
    return start(bind, port, seedNodes, managementPort, kubernetesBootstrap, metrics, tls, Optional.empty());
  }

  /**
   * As {@link #start(String, int, List, int, boolean, CoordinatorMetrics, ClusterTls)}; wherever the
   * Coordinator singleton starts on this node (it is the oldest coordinator node, first or after the
   * one before it was lost or left), it loads {@code served}. A second coordinator node joins with the
   * first as seed node and reaches the singleton through its proxy.
   */
  public static CoordinatorNode start(String bind, int port, List<String> seedNodes, int managementPort,
      boolean kubernetesBootstrap, CoordinatorMetrics metrics, ClusterTls tls, Optional<ServedFleet> served) {
    Map<String, Object> own = new HashMap<>();
    own.put("pekko.management.http.hostname", bind);
    own.put("pekko.management.http.port", Math.max(managementPort, 0));
    // The coordinator has no agents: its readiness is only cluster membership.
    own.put("pekko.management.health-checks.readiness-checks.decodefleet-agents", "");
    // Nor agent metrics: its /metrics is the coordinator's own, on its HTTP API or --metrics-port.
    own.put("pekko.management.http.routes.decodefleet-metrics", "");
    ActorSystem<Void> system = PortBinding.clusterNode(Behaviors.empty(),
        ClusterConfig.node(bind, port, List.of(CoordinatorRole.NAME), tls.config().withFallback(ConfigFactory.parseMap(own))));
    Cluster cluster = Cluster.get(system);
    if (!tls.enabled()) {
      ExposedPorts.warnIfExposed("the cluster port", bind, cluster.selfMember().address().getPort().orElse(port),
          "is plaintext and unauthenticated: any host that reaches it can join the cluster",
          "give --cluster-tls with a key store and a trust store");
    }
    if (managementPort >= 0 || kubernetesBootstrap) {
      try {
        PortBinding.bound("the management port (/alive, /ready)", bind, Math.max(managementPort, 0),
            PekkoManagement.get(system).start());
      } catch (PortBinding.Unavailable e) {
        new CoordinatorNode(system, null, metrics).close();
        throw e;
      }
    }
    if (kubernetesBootstrap) {
      ClusterBootstrap.get(system).start();
      return new CoordinatorNode(system, EmbeddedCluster.startCoordinator(system, metrics, served), metrics);
    }
    if (seedNodes.isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    } else {
      List<org.apache.pekko.actor.Address> seeds = new ArrayList<>();
      for (String hostPort : seedNodes) {
        seeds.add(AddressFromURIString.parse(ClusterConfig.seedAddress(hostPort)));
      }
      cluster.manager().tell(new JoinSeedNodes(seeds));
    }
    return new CoordinatorNode(system, EmbeddedCluster.startCoordinator(system, metrics, served), metrics);
  }

  @Override
  public ActorSystem<Void> system() {
    return system;
  }

  @Override
  public ActorRef<Coordinator.Command> coordinator() {
    return coordinator;
  }

  @Override
  public CoordinatorMetrics metrics() {
    return metrics;
  }

  /** host:port of this node's cluster endpoint (what daemons give as --seed-nodes). */
  public String clusterAddress() {
    org.apache.pekko.actor.Address a = Cluster.get(system).selfMember().address();
    return a.getHost().get() + ":" + a.getPort().get();
  }

  @Override
  public void close() {
    Runnable restoreLogging = QuietShutdown.begin();
    system.terminate(); // coordinated shutdown: leaves the cluster first
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      // best effort: a node that does not stop in time is abandoned with the JVM
    } finally {
      restoreLogging.run();
    }
  }
}
