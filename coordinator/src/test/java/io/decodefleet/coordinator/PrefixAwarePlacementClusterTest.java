package io.decodefleet.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.node.EmbeddedCluster;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Prefix-aware placement on a real two-agent CPU cluster with prefix caching on: a request whose
 * prompt shares a 320-token prefix with one that ran before goes to the agent that holds it, even
 * though that agent is busier, and is served from its cache with the same greedy tokens.
 */
class PrefixAwarePlacementClusterTest {
  private static final Duration T = Duration.ofSeconds(60);
  private static final ModelSpec MODEL = new ModelSpec("tiny", 21, 16, 256, 16, 512, 0.0,
      ModelSpec.PrefixCaching.ON);
  private static EmbeddedCluster cluster;
  private static org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit kit;

  @BeforeAll
  static void start() throws Exception {
    cluster = EmbeddedCluster.start(2, ConfigFactory.empty(), 16L << 20);
    Coordinator.FleetStatus status = AskPattern.<Coordinator.Command, Coordinator.FleetStatus>ask(cluster.coordinator(),
        r -> new Coordinator.LoadFleet(2, MODEL, T, r), T, cluster.system().scheduler()).toCompletableFuture()
        .get(70, TimeUnit.SECONDS);
    assertTrue(status instanceof Coordinator.FleetReady, status.toString());
    kit = org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit.create(cluster.system());
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private record Result(String agent, int[] tokens) {}

  /** Submits one request; with {@code await}, collects it to the end. */
  private static Result run(long id, int[] prompt, int maxTokens, String placement, boolean await) {
    TestProbe<SequenceEvent> probe = kit.createTestProbe();
    cluster.coordinator().tell(new Coordinator.Submit(id, prompt, maxTokens, SamplingParams.GREEDY, 0, placement,
        probe.getRef()));
    if (!await) return null;
    List<Integer> tokens = new ArrayList<>();
    String agent = null;
    while (true) {
      SequenceEvent e = probe.receiveMessage(T);
      if (e instanceof SequenceEvent.Tokens t) {
        agent = t.agentId();
        for (int x : t.tokens()) tokens.add(x);
      } else if (e instanceof SequenceEvent.Finished) {
        return new Result(agent, tokens.stream().mapToInt(Integer::intValue).toArray());
      } else if (e instanceof SequenceEvent.Failed f) {
        throw new AssertionError("request " + id + " failed: " + f.reason());
      }
    }
  }

  private static ClusterSnapshot state() throws Exception {
    return AskPattern.<Coordinator.Command, ClusterSnapshot>ask(cluster.coordinator(),
        Coordinator.GetClusterState::new, T, cluster.system().scheduler()).toCompletableFuture().get(15, TimeUnit.SECONDS);
  }

  private static int[] prompt(int[] prefix, int own, int salt) {
    int[] p = java.util.Arrays.copyOf(prefix, prefix.length + own);
    for (int i = 0; i < own; i++) p[prefix.length + i] = (salt * 37 + i * 11) % 1000;
    return p;
  }

  @Test
  void aSharedPrefixFollowsItsCacheOverLoadAndDecodesTheSameTokens() throws Exception {
    int[] prefix = IntStream.range(0, 320).map(i -> (i * 29 + 5) % 1000).toArray();
    Result first = run(1, prompt(prefix, 10, 1), 4, "prefix-aware", true);
    String holder = first.agent();
    // A long request now keeps the holder busy: least-loaded would go elsewhere.
    run(2, prompt(new int[0], 12, 2), 1500, "prefix-aware", false);
    Thread.sleep(300);
    long hitsBefore = state().agents().stream().mapToLong(AgentSnapshot::prefixHitTokens).sum();

    Result second = run(3, prompt(prefix, 10, 3), 6, "prefix-aware", true);
    assertEquals(holder, second.agent(), "the request went where its prefix is cached");
    AgentSnapshot h = state().agents().stream().filter(a -> a.agentId().equals(holder)).findFirst().orElseThrow();
    assertTrue(h.prefixHitTokens() - hitsBefore >= 320, "hits: " + (h.prefixHitTokens() - hitsBefore));
    assertTrue(h.prefixCachedBlocks() >= 20, "cached blocks: " + h.prefixCachedBlocks());

    // The same prompt prefilled in full, on the other agent, decodes the same tokens.
    Result fresh = run(4, prompt(prefix, 10, 3), 6, "least-loaded", true);
    org.junit.jupiter.api.Assertions.assertNotEquals(holder, fresh.agent(), "least-loaded avoids the busy holder");
    assertArrayEquals(fresh.tokens(), second.tokens());
  }
}
