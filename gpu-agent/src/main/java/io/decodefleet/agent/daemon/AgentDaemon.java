package io.decodefleet.agent.daemon;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.ClusterConfig;
import io.decodefleet.agent.ClusterTls;
import io.decodefleet.agent.ExposedPorts;
import io.decodefleet.agent.NodeGuardian;
import io.decodefleet.agent.LocalDevices;
import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.CudaSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import sun.misc.Signal;

/**
 * The {@code gpu-agent} daemon: one ActorSystem per node that joins the cluster, hosts one agent per
 * device under its NodeGuardian, serves /alive, /ready and /metrics, and on SIGTERM drains (every unfinished
 * sequence goes back to the coordinator), leaves the cluster and exits 0.
 */
public final class AgentDaemon {
  private AgentDaemon() {}

  /**
   * @param seedNodes "host:port" of seed nodes; empty with kubernetesBootstrap
   * @param bind address to bind and advertise
   * @param port cluster (Artery) port
   * @param nodeName prefix of this node's agent ids: nodeName-0, nodeName-1, …
   * @param cpuAgents CPU agent slots, when the agents run on the CPU
   * @param tensorParallel devices per agent (K > 1: tensor-parallel groups of K GPUs or CPU ranks)
   * @param managementPort Pekko Management HTTP port (/alive, /ready, /metrics)
   * @param drainTimeout how long SIGTERM waits for agents to hand back their sequences
   * @param devices "auto" (one CUDA agent per GPU, CPU agents when there is none), "cpu", or GPU
   *     indices such as "0,1"
   * @param cuda how each CUDA agent uses its GPU
   * @param tls how the node talks to the others: plaintext or TLS with mutual authentication
   */
  public record Settings(List<String> seedNodes, String bind, int port, String nodeName, int cpuAgents,
      int managementPort, boolean kubernetesBootstrap, long cpuKvBytes, Duration drainTimeout, String devices,
      CudaSettings cuda, int tensorParallel, ClusterTls tls) {}

  public static Config config(Settings s) {
    Map<String, Object> own = new HashMap<>();
    List<String> seeds = new ArrayList<>();
    for (String hostPort : s.seedNodes()) seeds.add(ClusterConfig.seedAddress(hostPort));
    own.put("pekko.cluster.seed-nodes", seeds);
    own.put("pekko.management.http.hostname", s.bind());
    own.put("pekko.management.http.port", s.managementPort());
    return ClusterConfig.node(s.bind(), s.port(), List.of("agent"),
        s.tls().config().withFallback(ConfigFactory.parseMap(own)));
  }

  /** Runs until SIGTERM/SIGINT; returns the exit code. */
  public static int run(Settings s) throws InterruptedException {
    LocalDevices.Choice choice = LocalDevices.forDaemon(s.devices(), CudaDevices.discover());
    int devices = choice.cuda() ? choice.gpus().size() : s.cpuAgents() * s.tensorParallel();
    int k = s.tensorParallel();
    if (devices % k != 0) {
      throw new IllegalArgumentException("--tensor-parallel " + k + " does not divide the " + devices
          + " devices of this node");
    }
    List<NodeGuardian.DeviceSlot> slots = new ArrayList<>();
    for (int i = 0; i < devices / k; i++) {
      slots.add(choice.groupSlot(s.nodeName() + "-" + i, i, k, s.cuda(), s.cpuKvBytes()));
    }
    System.out.println("gpu-agent " + s.nodeName() + ": backend " + choice.backend() + " (" + choice.reason() + ")"
        + (choice.cuda() ? ", decode path " + s.cuda().decodePath().label() : ""));
    ActorSystem<NodeGuardian.Command> system = ActorSystem.create(NodeGuardian.create(slots), ClusterConfig.SYSTEM_NAME,
        config(s));
    PekkoManagement.get(system).start();
    if (s.kubernetesBootstrap()) ClusterBootstrap.get(system).start();

    CountDownLatch stopped = new CountDownLatch(1);
    Runnable drainAndStop = () -> {
      try {
        AskPattern.<NodeGuardian.Command, org.apache.pekko.Done>ask(system, NodeGuardian.DrainAll::new,
            s.drainTimeout(), system.scheduler()).toCompletableFuture().get(s.drainTimeout().toMillis() + 1000,
            TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        System.err.println("gpu-agent: drain did not finish within " + s.drainTimeout().toSeconds() + " s: " + e);
      }
      io.decodefleet.agent.QuietShutdown.begin(); // peers' dropped connections are expected from here on
      system.terminate(); // coordinated shutdown: leaves the cluster first
      try {
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("gpu-agent: shutdown did not finish cleanly: " + e);
      }
      stopped.countDown();
    };
    Signal.handle(new Signal("TERM"), sig -> new Thread(drainAndStop, "drain").start());
    Signal.handle(new Signal("INT"), sig -> new Thread(drainAndStop, "drain").start());
    org.apache.pekko.actor.Address self = org.apache.pekko.cluster.typed.Cluster.get(system).selfMember().address();
    System.out.println("gpu-agent " + s.nodeName() + ": " + slots.size() + " agents at " + self + " ("
        + s.tls().describe() + "), management http://" + s.bind() + ":" + s.managementPort()
        + " (/alive, /ready, /metrics)");
    if (!s.tls().enabled()) {
      ExposedPorts.warnIfExposed("the cluster port", s.bind(), self.getPort().orElse(s.port()),
          "is plaintext and unauthenticated: any host that reaches it can join the cluster",
          "give --cluster-tls with a key store and a trust store");
    }
    System.out.flush();
    system.getWhenTerminated().thenRun(stopped::countDown);
    stopped.await();
    return 0;
  }
}
