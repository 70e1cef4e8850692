package io.decodefleet.agent.daemon;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.ClusterConfig;
import io.decodefleet.agent.ClusterTls;
import io.decodefleet.agent.ExposedPorts;
import io.decodefleet.agent.LocalDevices;
import io.decodefleet.agent.NodeGuardian;
import io.decodefleet.agent.NodeHealth;
import io.decodefleet.agent.PortBinding;
import io.decodefleet.agent.QuietShutdown;
import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.CudaSettings;
import io.decodefleet.agent.engine.tp.Parallelism;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import sun.misc.Signal;

/**
 * The {@code gpu-agent} daemon: one ActorSystem per node that joins the cluster, hosts one agent per
 * device under its NodeGuardian, serves /alive, /ready and /metrics, and on SIGTERM drains (every unfinished
 * sequence goes back to the coordinator), leaves the cluster and exits 0. A node that cannot bind its
 * cluster or management port, or whose agent ids the coordinator finds held by another node, stops with
 * one line instead (exit code 2).
 */
public final class AgentDaemon {
  private AgentDaemon() {}

  /**
   * @param seedNodes "host:port" of seed nodes; empty with kubernetesBootstrap
   * @param bind address to bind and advertise
   * @param port cluster (Artery) port
   * @param nodeName prefix of this node's agent ids: nodeName-0, nodeName-1, …; null or blank: the host
   *     name and the cluster port (see {@link #nodeName})
   * @param cpuAgents CPU agent slots, when the agents run on the CPU
   * @param tensorParallel devices per agent (K > 1: tensor-parallel groups of K GPUs or CPU ranks)
   * @param managementPort Pekko Management HTTP port (/alive, /ready, /metrics)
   * @param drainTimeout how long SIGTERM waits for agents to hand back their sequences
   * @param devices "auto" (one CUDA agent per GPU, CPU agents when there is none), "cpu", or GPU
   *     indices such as "0,1"
   * @param cuda how each CUDA agent uses its GPU
   * @param tls how the node talks to the others: plaintext or TLS with mutual authentication
   * @param parallelism what each group of {@code tensorParallel} > 1 devices splits: heads and columns
   *     ({@code --tensor-parallel K}) or experts ({@code --expert-parallel K})
   */
  public record Settings(List<String> seedNodes, String bind, int port, String nodeName, int cpuAgents,
      int managementPort, boolean kubernetesBootstrap, long cpuKvBytes, Duration drainTimeout, String devices,
      CudaSettings cuda, int tensorParallel, ClusterTls tls, Parallelism parallelism) {

    /** Tensor-parallel groups (or single devices). */
    public Settings(List<String> seedNodes, String bind, int port, String nodeName, int cpuAgents,
        int managementPort, boolean kubernetesBootstrap, long cpuKvBytes, Duration drainTimeout, String devices,
        CudaSettings cuda, int tensorParallel, ClusterTls tls) {
      this(seedNodes, bind, port, nodeName, cpuAgents, managementPort, kubernetesBootstrap, cpuKvBytes, drainTimeout,
          devices, cuda, tensorParallel, tls, Parallelism.TENSOR);
    }
  }

  /**
   * The node's configuration. It names no seed nodes: the node joins them only once its management
   * port is bound, so a node that cannot serve /alive and /ready never joins.
   */
  public static Config config(Settings s) {
    Map<String, Object> own = new HashMap<>();
    own.put("pekko.management.http.hostname", s.bind());
    own.put("pekko.management.http.port", s.managementPort());
    return ClusterConfig.node(s.bind(), s.port(), List.of("agent"),
        s.tls().config().withFallback(ConfigFactory.parseMap(own)));
  }

  /**
   * The prefix of the node's agent ids: {@code --node-name}, or else the host name and the cluster
   * port the node bound ({@code gpu-host-2552}), so two daemons on one host differ without being told.
   */
  static String nodeName(Settings s, int clusterPort) {
    if (s.nodeName() != null && !s.nodeName().isBlank()) return s.nodeName();
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "gpu-agent";
    }
    return host + "-" + clusterPort;
  }

  /**
   * Runs until SIGTERM/SIGINT (exit code 0) or until the coordinator refuses one of its agents
   * because another node holds its id (one line on stderr, exit code 2).
   *
   * @throws PortBinding.Unavailable when the cluster or the management port cannot be bound
   */
  public static int run(Settings s) throws InterruptedException {
    LocalDevices.Choice choice = LocalDevices.forDaemon(s.devices(), CudaDevices.discover());
    int devices = choice.cuda() ? choice.gpus().size() : s.cpuAgents() * s.tensorParallel();
    int k = s.tensorParallel();
    String flag = s.parallelism() == Parallelism.EXPERT ? "--expert-parallel " : "--tensor-parallel ";
    if (devices % k != 0) {
      throw new IllegalArgumentException(flag + k + " does not divide the " + devices + " devices of this node");
    }
    // The agents' ids may name the cluster port, known once the transport bound it: the guardian is made then.
    ActorSystem<NodeGuardian.Command> system = PortBinding.clusterNode(Behaviors.setup(ctx -> {
      String name = nodeName(s, ctx.getSystem().address().getPort().get());
      List<NodeGuardian.DeviceSlot> slots = new ArrayList<>();
      for (int i = 0; i < devices / k; i++) {
        slots.add(choice.groupSlot(name + "-" + i, i, k, s.parallelism(), s.cuda(), s.cpuKvBytes()));
      }
      return NodeGuardian.create(slots);
    }), config(s));
    String name = nodeName(s, system.address().getPort().get());
    System.out.println("gpu-agent " + name + ": " + choice.describe()
        + (choice.cuda() ? ", decode path " + s.cuda().decodePath().label() : ""));
    org.apache.pekko.http.javadsl.model.Uri management;
    try {
      management = PortBinding.bound("the management port (/alive, /ready, /metrics)", s.bind(), s.managementPort(),
          PekkoManagement.get(system).start());
    } catch (PortBinding.Unavailable e) {
      stop(system);
      throw e;
    }
    Cluster cluster = Cluster.get(system);
    if (s.kubernetesBootstrap()) {
      ClusterBootstrap.get(system).start();
    } else {
      List<org.apache.pekko.actor.Address> seeds = new ArrayList<>();
      for (String hostPort : s.seedNodes()) seeds.add(AddressFromURIString.parse(ClusterConfig.seedAddress(hostPort)));
      cluster.manager().tell(new JoinSeedNodes(seeds));
    }

    CountDownLatch stopped = new CountDownLatch(1);
    Runnable drainAndStop = () -> {
      try {
        AskPattern.<NodeGuardian.Command, org.apache.pekko.Done>ask(system, NodeGuardian.DrainAll::new,
            s.drainTimeout(), system.scheduler()).toCompletableFuture().get(s.drainTimeout().toMillis() + 1000,
            TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        System.err.println("gpu-agent: drain did not finish within " + s.drainTimeout().toSeconds() + " s: " + e);
      }
      stop(system);
      stopped.countDown();
    };
    Signal.handle(new Signal("TERM"), sig -> new Thread(drainAndStop, "drain").start());
    Signal.handle(new Signal("INT"), sig -> new Thread(drainAndStop, "drain").start());
    // Refused (its agents' ids are another node's): nothing was placed here, so it leaves at once.
    AtomicReference<String> refused = new AtomicReference<>();
    NodeHealth.get(system).refusal().thenAccept(line -> {
      if (!refused.compareAndSet(null, line)) return;
      System.err.println("gpu-agent: " + line);
      System.err.flush();
      new Thread(() -> {
        stop(system);
        stopped.countDown();
      }, "refused").start();
    });
    org.apache.pekko.actor.Address self = cluster.selfMember().address();
    System.out.println("gpu-agent " + name + ": " + (devices / k) + " agents at " + self + " (" + s.tls().describe()
        + "), management " + management + " (/alive, /ready, /metrics)");
    if (!s.tls().enabled()) {
      ExposedPorts.warnIfExposed("the cluster port", s.bind(), self.getPort().orElse(s.port()),
          "is plaintext and unauthenticated: any host that reaches it can join the cluster",
          "give --cluster-tls with a key store and a trust store");
    }
    System.out.flush();
    system.getWhenTerminated().thenRun(stopped::countDown);
    stopped.await();
    return refused.get() == null ? 0 : 2;
  }

  /** Leaves the cluster (coordinated shutdown) and waits for the system to stop. */
  private static void stop(ActorSystem<?> system) {
    QuietShutdown.begin(); // peers' dropped connections are expected from here on
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      System.err.println("gpu-agent: shutdown did not finish cleanly: " + e);
    }
  }
}
