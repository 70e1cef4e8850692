package io.decodefleet.coordinator.node;

import com.typesafe.config.Config;
import io.decodefleet.agent.ClusterConfig;
import io.decodefleet.agent.NodeGuardian;
import io.decodefleet.agent.QuietShutdown;
import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.ServedFleet;
import io.decodefleet.coordinator.observability.CoordinatorMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * The single-machine default: a coordinator node plus one node per agent, each its own ActorSystem
 * on 127.0.0.1 with its own port, joined into one real cluster over loopback (so every protocol
 * message is serialized and crosses a socket). Agents run the CPU backend unless a slot per agent
 * says otherwise (one CUDA backend per local GPU).
 */
public final class EmbeddedCluster implements ClusterHandle {
  private final ActorSystem<Void> coordinatorSystem;
  private final ActorRef<Coordinator.Command> coordinator;
  private final List<ActorSystem<NodeGuardian.Command>> agentSystems;
  private final CoordinatorMetrics metrics;

  private EmbeddedCluster(ActorSystem<Void> coordinatorSystem, ActorRef<Coordinator.Command> coordinator,
      List<ActorSystem<NodeGuardian.Command>> agentSystems, CoordinatorMetrics metrics) {
    this.coordinatorSystem = coordinatorSystem;
    this.coordinator = coordinator;
    this.agentSystems = agentSystems;
    this.metrics = metrics;
  }

  /**
   * Starts the coordinator node and {@code agents} CPU agent nodes named agent-0 … agent-(N-1).
   *
   * @param overrides settings for every node (highest precedence)
   * @param cpuKvBytes KV memory per CPU agent
   */
  public static EmbeddedCluster start(int agents, Config overrides, long cpuKvBytes) {
    return start(agents, overrides,
        i -> new NodeGuardian.DeviceSlot("agent-" + i, "cpu slot " + i, "cpu", () -> new CpuBackend(cpuKvBytes)));
  }

  /**
   * Starts the coordinator node and {@code agents} agent nodes, agent i on {@code slotOf.apply(i)}
   * (named agent-i; e.g. a CUDA backend on GPU i).
   */
  public static EmbeddedCluster start(int agents, Config overrides, IntFunction<NodeGuardian.DeviceSlot> slotOf) {
    return start(agents, overrides, slotOf, new CoordinatorMetrics());
  }

  /** As {@link #start(int, Config, IntFunction)}, the coordinator feeding {@code metrics}. */
  public static EmbeddedCluster start(int agents, Config overrides, IntFunction<NodeGuardian.DeviceSlot> slotOf,
      CoordinatorMetrics metrics) {
    ActorSystem<Void> coordSystem = ActorSystem.create(Behaviors.empty(), ClusterConfig.SYSTEM_NAME,
        ClusterConfig.node("127.0.0.1", 0, List.of(CoordinatorRole.NAME), overrides));
    Cluster coordCluster = Cluster.get(coordSystem);
    Address seed = coordCluster.selfMember().address();
    coordCluster.manager().tell(Join.create(seed));
    ActorRef<Coordinator.Command> coordinator = startCoordinator(coordSystem, metrics);

    List<ActorSystem<NodeGuardian.Command>> agentSystems = new ArrayList<>();
    for (int i = 0; i < agents; i++) {
      NodeGuardian.DeviceSlot slot = slotOf.apply(i);
      ActorSystem<NodeGuardian.Command> system = ActorSystem.create(NodeGuardian.create(List.of(slot)),
          ClusterConfig.SYSTEM_NAME, ClusterConfig.node("127.0.0.1", 0, List.of("agent"), overrides));
      Cluster.get(system).manager().tell(Join.create(seed));
      agentSystems.add(system);
    }
    return new EmbeddedCluster(coordSystem, coordinator, agentSystems, metrics);
  }

  /**
   * The coordinator singleton, hosted only on nodes with the "coordinator" role; where it runs in this
   * process, it feeds {@code metrics}.
   */
  public static ActorRef<Coordinator.Command> startCoordinator(ActorSystem<?> system, CoordinatorMetrics metrics) {
    return startCoordinator(system, metrics, Optional.empty());
  }

  /**
   * As {@link #startCoordinator(ActorSystem, CoordinatorMetrics)}; where the singleton starts in this
   * process (the first coordinator node, or a later one taking over), it loads {@code served}. The
   * reference returned is the singleton's proxy: wherever the Coordinator runs, messages reach it,
   * buffered while none runs.
   */
  public static ActorRef<Coordinator.Command> startCoordinator(ActorSystem<?> system, CoordinatorMetrics metrics,
      Optional<ServedFleet> served) {
    return ClusterSingleton.get(system).init(SingletonActor.of(Coordinator.create(metrics, served), "coordinator")
        .withSettings(ClusterSingletonSettings.create(system).withRole(CoordinatorRole.NAME)));
  }

  public ActorSystem<Void> coordinatorSystem() {
    return coordinatorSystem;
  }

  @Override
  public ActorSystem<Void> system() {
    return coordinatorSystem;
  }

  @Override
  public ActorRef<Coordinator.Command> coordinator() {
    return coordinator;
  }

  @Override
  public CoordinatorMetrics metrics() {
    return metrics;
  }

  public List<ActorSystem<NodeGuardian.Command>> agentSystems() {
    return agentSystems;
  }

  /** Stops every node (agents first, in parallel) and waits for them. */
  @Override
  public void close() {
    Runnable restoreLogging = QuietShutdown.begin();
    List<CompletableFuture<?>> done = new ArrayList<>();
    for (ActorSystem<?> s : agentSystems) {
      s.terminate();
      done.add(s.getWhenTerminated().toCompletableFuture());
    }
    coordinatorSystem.terminate();
    done.add(coordinatorSystem.getWhenTerminated().toCompletableFuture());
    try {
      CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(Duration.ofSeconds(30).toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      // Shutdown is best effort: a node that does not stop in time is abandoned with the JVM.
    } finally {
      restoreLogging.run();
    }
  }
}
