package io.decodefleet.coordinator.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.metrics.AgentStats;
import io.decodefleet.coordinator.metrics.RequestRecord;
import io.decodefleet.coordinator.metrics.VerificationSummary;
import io.decodefleet.coordinator.run.BenchmarkSpec;
import io.decodefleet.coordinator.run.RunOutcome;
import io.decodefleet.coordinator.workload.ArrivalProcess;
import io.decodefleet.coordinator.workload.LengthDistribution;
import io.decodefleet.coordinator.workload.RequestSpec;
import io.decodefleet.coordinator.workload.WorkloadGenerator;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real cluster on loopback: a coordinator node and three agent nodes, each its own ActorSystem, so
 * every protocol message is serialized and crosses a TCP connection.
 */
class EmbeddedClusterTest {
  private static final int AGENTS = 3;
  private static EmbeddedCluster cluster;

  @BeforeAll
  static void start() {
    cluster = EmbeddedCluster.start(AGENTS, ConfigFactory.empty(), 8L << 20);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static RunOutcome run(BenchmarkSpec spec) throws Exception {
    return AskPattern.<Coordinator.Command, RunOutcome>ask(cluster.coordinator(),
        replyTo -> new Coordinator.RunBenchmark(spec, null, replyTo), Duration.ofMinutes(3),
        cluster.coordinatorSystem().scheduler()).toCompletableFuture().get(3, TimeUnit.MINUTES);
  }

  private static BenchmarkSpec spec(int worldSize, List<RequestSpec> requests, String placement, int kvBlocks,
      double verify) {
    return new BenchmarkSpec(worldSize, new ModelSpec("tiny", 7, 16, kvBlocks, 8, 64, verify), requests, placement,
        0, Duration.ofSeconds(60));
  }

  private static List<RequestSpec> workload(int n, long seed) {
    return WorkloadGenerator.generate(n, new ArrivalProcess.AllAtOnce(), new LengthDistribution.Uniform(5, 70),
        new LengthDistribution.Uniform(3, 20), 1024, 2048, seed);
  }

  @Test
  void everyRequestCompletesOnEveryAgentWithExactlyItsTokens() throws Exception {
    List<RequestSpec> requests = workload(15, 1);
    RunOutcome outcome = run(spec(AGENTS, requests, "round-robin", 0, 0.0));

    assertNull(outcome.error());
    assertEquals(15, outcome.result().completed());
    assertEquals(0, outcome.result().failed());
    long expectedTokens = requests.stream().mapToLong(RequestSpec::maxTokens).sum();
    assertEquals(expectedTokens, outcome.result().totalOutputTokens());
    for (RequestSpec r : requests) {
      assertEquals(r.maxTokens(), outcome.outputTokens().get(r.requestId()).length, "request " + r.requestId());
    }
    List<AgentStats> agents = outcome.result().agents();
    assertEquals(AGENTS, agents.size());
    for (AgentStats a : agents) assertEquals(5, a.requests(), "round robin gives each agent 5 of 15: " + a);
    for (RequestRecord r : outcome.requests()) {
      assertTrue(r.ttftMs() > 0 && r.e2eMs() >= r.ttftMs(), r.toString());
    }
  }

  @Test
  void sameSeedGivesSameTokensWhateverThePlacementAndPoolSize() throws Exception {
    List<RequestSpec> requests = workload(12, 2);
    RunOutcome first = run(spec(AGENTS, requests, "least-loaded", 0, 0.0));
    // A pool of 10 blocks (160 tokens) per agent forces preemption by recompute.
    RunOutcome second = run(spec(2, requests, "round-robin", 10, 0.0));

    assertTrue(first.succeeded() && second.succeeded());
    assertTrue(second.engine().preemptions() > 0, "expected preemptions: " + second.engine());
    for (RequestSpec r : requests) {
      assertArrayEquals(first.outputTokens().get(r.requestId()), second.outputTokens().get(r.requestId()),
          "request " + r.requestId());
    }
  }

  @Test
  void verifyChecksCachedDecodeAgainstFullRecompute() throws Exception {
    RunOutcome outcome = run(spec(AGENTS, workload(6, 3), "least-loaded", 0, 1.0));

    assertTrue(outcome.succeeded(), String.valueOf(outcome.verification()));
    VerificationSummary v = outcome.verification();
    assertEquals(6, v.sequencesChecked());
    assertEquals(0, v.failures());
    assertTrue(v.maxRelError() < 1e-4);
  }

  @Test
  void requestLargerThanEveryAgentsKvPoolFailsWithAReason() throws Exception {
    int[] hugePrompt = new int[400];
    List<RequestSpec> requests = List.of(new RequestSpec(0, 0, new int[] {1, 2, 3}, 4),
        new RequestSpec(1, 0, hugePrompt, 4));
    RunOutcome outcome = run(spec(AGENTS, requests, "least-loaded", 8, 0.0));

    assertEquals(1, outcome.result().completed());
    assertEquals(1, outcome.result().failed());
    RequestRecord failed = outcome.requests().stream().filter(r -> !r.completed()).findFirst().orElseThrow();
    assertEquals(1, failed.requestId());
    assertTrue(failed.failureReason().contains("KV capacity"), failed.failureReason());
    assertTrue(!outcome.succeeded());
  }

  @Test
  void worldSizeLargerThanTheClusterTimesOutNamingHowManyJoined() throws Exception {
    BenchmarkSpec spec = new BenchmarkSpec(AGENTS + 2, new ModelSpec("tiny", 7, 16, 0, 8, 64, 0.0), workload(2, 4),
        "round-robin", 0, Duration.ofSeconds(3));
    RunOutcome outcome = run(spec);

    assertEquals("only " + AGENTS + " of " + (AGENTS + 2) + " agents joined within 3 s", outcome.error());
  }
}
