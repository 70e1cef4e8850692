package io.decodefleet.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.ClusterConfig;
import io.decodefleet.agent.NodeGuardian;
import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.node.EmbeddedCluster;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.Test;

/**
 * A fleet of two CPU agents on a real loopback cluster loses agent-0's node; a new node comes up with
 * an agent of the same id (a daemon restarted with its --node-name). The coordinator loads the model
 * on it and it takes agent-0's place: the fleet is whole again and serves sequences on it, with the
 * tokens of the fleet before the loss.
 */
class FleetRejoinClusterTest {
  private static final ModelSpec MODEL = new ModelSpec("tiny", 13, 16, 0, 8, 64, 0.0, ModelSpec.PrefixCaching.OFF);
  private static final long KV_BYTES = 8L << 20;
  private static final int REQUESTS = 6;

  private static ClusterSnapshot state(EmbeddedCluster on) throws Exception {
    return AskPattern.<Coordinator.Command, ClusterSnapshot>ask(on.coordinator(), Coordinator.GetClusterState::new,
        Duration.ofSeconds(10), on.coordinatorSystem().scheduler()).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static AgentSnapshot agent0(ClusterSnapshot s) {
    return s.agents().stream().filter(a -> a.agentId().equals("agent-0")).findFirst().orElseThrow();
  }

  private static ClusterSnapshot await(EmbeddedCluster on, Predicate<ClusterSnapshot> p, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    ClusterSnapshot s = state(on);
    while (!p.test(s)) {
      if (System.nanoTime() > deadline) throw new AssertionError(what + " within 60 s; agents: " + s.agents());
      Thread.sleep(100);
      s = state(on);
    }
    return s;
  }

  /** Runs {@code REQUESTS} greedy sequences round-robin on the fleet: tokens by request, and which agents served. */
  private static Map<Long, int[]> generate(EmbeddedCluster on, long firstId, Set<String> agents, String name)
      throws Exception {
    Map<Long, int[]> tokens = new ConcurrentHashMap<>();
    Map<Long, String> failures = new ConcurrentHashMap<>();
    CountDownLatch over = new CountDownLatch(REQUESTS);
    ActorRef<SequenceEvent> subscriber = on.coordinatorSystem().systemActorOf(Behaviors.receiveMessage(e -> {
      if (e instanceof SequenceEvent.Tokens t) {
        tokens.merge(t.requestId() - firstId, t.tokens(), FleetRejoinClusterTest::concat);
        agents.add(t.agentId());
      } else if (e instanceof SequenceEvent.Finished) {
        over.countDown();
      } else if (e instanceof SequenceEvent.Failed f) {
        failures.put(f.requestId(), f.reason());
        over.countDown();
      }
      return Behaviors.same();
    }), name, Props.empty());
    for (int i = 0; i < REQUESTS; i++) {
      int[] prompt = new int[12 + 5 * i];
      for (int t = 0; t < prompt.length; t++) prompt[t] = (31 * i + 7 * t) % 1000;
      on.coordinator().tell(new Coordinator.Submit(firstId + i, prompt, 20, SamplingParams.GREEDY, 0, "round-robin",
          subscriber));
    }
    assertTrue(over.await(60, TimeUnit.SECONDS), "requests still open: " + over.getCount());
    assertTrue(failures.isEmpty(), failures.toString());
    return new HashMap<>(tokens);
  }

  @Test
  void anAgentThatComesBackUnderItsIdTakesItsPlaceInTheFleetAndServes() throws Exception {
    EmbeddedCluster cluster = EmbeddedCluster.start(2, ConfigFactory.empty(), KV_BYTES);
    ActorSystem<NodeGuardian.Command> restarted = null;
    try {
      Coordinator.FleetStatus loaded = AskPattern.<Coordinator.Command, Coordinator.FleetStatus>ask(
          cluster.coordinator(), replyTo -> new Coordinator.LoadFleet(2, MODEL, Duration.ofSeconds(60), replyTo),
          Duration.ofSeconds(70), cluster.coordinatorSystem().scheduler()).toCompletableFuture().get(70, TimeUnit.SECONDS);
      assertInstanceOf(Coordinator.FleetReady.class, loaded);
      Map<Long, int[]> before = generate(cluster, 0, ConcurrentHashMap.newKeySet(), "before");

      ActorSystem<NodeGuardian.Command> old = cluster.agentSystems().get(0);
      String oldAddress = agent0(state(cluster)).nodeAddress();
      old.terminate();
      await(cluster, s -> !agent0(s).alive() && s.agentsLost() == 1, "agent-0 counted lost");

      restarted = ActorSystem.create(NodeGuardian.create(List.of(new NodeGuardian.DeviceSlot("agent-0", "cpu slot 0",
          "cpu", () -> new CpuBackend(KV_BYTES)))), ClusterConfig.SYSTEM_NAME,
          ClusterConfig.node("127.0.0.1", 0, List.of("agent"), ConfigFactory.empty()));
      Cluster.get(restarted).manager().tell(Join.create(Cluster.get(cluster.coordinatorSystem()).selfMember().address()));
      String newAddress = Cluster.get(restarted).selfMember().address().toString();
      ClusterSnapshot whole = await(cluster, s -> agent0(s).alive() && agent0(s).loaded()
          && agent0(s).nodeAddress().equals(newAddress), "the returning agent-0 loaded in the fleet");

      assertEquals(2, whole.worldSize(), "the fleet keeps its size: the returning agent took the lost one's place");
      assertEquals(2, whole.agents().stream().filter(a -> a.alive() && a.loaded()).count(), whole.agents().toString());
      assertTrue(!oldAddress.equals(newAddress));
      Set<String> served = ConcurrentHashMap.newKeySet();
      Map<Long, int[]> after = generate(cluster, 100, served, "after");
      assertTrue(served.contains("agent-0"), "round-robin placed sequences on the returning agent: " + served);
      for (long i = 0; i < REQUESTS; i++) assertArrayEquals(before.get(i), after.get(i), "request " + i);
    } finally {
      if (restarted != null) restarted.terminate();
      cluster.close();
    }
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
