package io.decodefleet.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsRecorderTest {

  private static final double EPS = 1e-9;

  /** An arbitrary System.nanoTime() origin: nothing may assume the clock starts at 0. */
  private static final long T0 = 7_345_000_000_000L;

  static long ms(double millis) {
    return T0 + Math.round(millis * 1_000_000);
  }

  /**
   * Request 1 (prompt 10, agent-1): tokens at 10 ms, 2 at 20 ms (one report), 1 at 35 ms.
   * Request 2 (prompt 20, released at 5 ms, agent-2): a single token at 25 ms.
   * Request 3 (prompt 30, released at 6 ms, agent-10): one token at 16 ms, then fails.
   * The run lasts 2 s.
   */
  static MetricsRecorder threeRequestRun() {
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(1, 10, 16, ms(0));
    m.requestReleased(2, 20, 16, ms(5));
    m.requestReleased(3, 30, 16, ms(6));
    m.tokensArrived(1, "agent-1", 1, ms(10));
    m.tokensArrived(3, "agent-10", 1, ms(16));
    m.tokensArrived(1, "agent-1", 2, ms(20));
    m.tokensArrived(2, "agent-2", 1, ms(25));
    m.requestFinished(2, ms(26));
    m.tokensArrived(1, "agent-1", 1, ms(35));
    m.requestFinished(1, ms(40));
    m.requestFailed(3, "agent-10 left the cluster", ms(50));
    return m;
  }

  @Test
  void perRequestLatenciesFollowVllmDefinitions() {
    List<RequestRecord> records = threeRequestRun().requests();
    assertEquals(List.of(1L, 2L, 3L), records.stream().map(RequestRecord::requestId).toList());

    RequestRecord r1 = records.get(0);
    assertEquals("agent-1", r1.agentId());
    assertEquals(4, r1.outputTokens());
    assertTrue(r1.completed());
    assertNull(r1.failureReason());
    assertEquals(10, r1.ttftMs(), EPS);
    assertEquals(35, r1.e2eMs(), EPS);
    assertEquals(25.0 / 3, r1.tpotMs(), EPS); // (35 - 10) / (4 - 1)
    assertEquals(List.of(10.0, 0.0, 15.0), r1.itlMs());

    RequestRecord r2 = records.get(1);
    assertEquals(20, r2.ttftMs(), EPS);
    assertEquals(20, r2.e2eMs(), EPS);
    assertTrue(Double.isNaN(r2.tpotMs()), "one token has no TPOT");
    assertEquals(List.of(), r2.itlMs());

    RequestRecord r3 = records.get(2);
    assertFalse(r3.completed());
    assertEquals("agent-10 left the cluster", r3.failureReason());
    assertEquals(10, r3.ttftMs(), EPS);
  }

  @Test
  void summaryHasExactThroughputAndExcludesFailedRequests() {
    BenchmarkResult r = threeRequestRun().summarize(ms(0), ms(2000));
    assertEquals(2, r.completed());
    assertEquals(1, r.failed());
    assertEquals(2.0, r.durationSeconds(), EPS);
    assertEquals(30, r.totalInputTokens()); // request 3's 30 prompt tokens are not counted
    assertEquals(5, r.totalOutputTokens());
    assertEquals(1.0, r.requestThroughput(), EPS);
    assertEquals(2.5, r.outputTokenThroughput(), EPS);
    assertEquals(17.5, r.totalTokenThroughput(), EPS);

    // TTFT [10, 20]; the failed request's 10 ms is left out (else the count would be 3).
    assertStats(r.ttftMs(), 15, 15, 19, 19.9, 10, 20, 2);
    assertStats(r.tpotMs(), 25.0 / 3, 25.0 / 3, 25.0 / 3, 25.0 / 3, 25.0 / 3, 25.0 / 3, 1);
    // ITL pooled [10, 0, 15] -> sorted [0, 10, 15]
    assertStats(r.itlMs(), 25.0 / 3, 10, 14, 14.9, 0, 15, 3);
    // E2E [35, 20]
    assertStats(r.e2eMs(), 27.5, 27.5, 33.5, 34.85, 20, 35, 2);
    assertEquals(0, r.migrations());
  }

  @Test
  void agentsCountCompletedRequestsAndAreInNaturalOrder() {
    BenchmarkResult r = threeRequestRun().summarize(ms(0), ms(2000));
    assertEquals(
        List.of(
            new AgentStats("agent-1", 1, 4),
            new AgentStats("agent-2", 1, 1),
            new AgentStats("agent-10", 0, 0)), // produced only for the failed request
        r.agents());
  }

  @Test
  void migratedRequestSplitsTokensAndCountsForTheFinalAgent() {
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(7, 5, 8, ms(0));
    m.tokensArrived(7, "agent-1", 3, ms(10));
    m.requestMigrated(7, "agent-1", "agent-2");
    m.tokensArrived(7, "agent-2", 2, ms(30));
    m.requestFinished(7, ms(31));

    RequestRecord record = m.requests().get(0);
    assertEquals("agent-2", record.agentId());
    assertEquals(1, record.migrations());
    assertEquals(List.of(0.0, 0.0, 20.0, 0.0), record.itlMs());
    BenchmarkResult r = m.summarize(ms(0), ms(1000));
    assertEquals(1, r.migrations());
    assertEquals(
        List.of(new AgentStats("agent-1", 0, 3), new AgentStats("agent-2", 1, 2)), r.agents());
  }

  @Test
  void migrationsOfFailedRequestsCountInTheTotal() {
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(1, 5, 8, ms(0));
    m.requestMigrated(1, "agent-1", "agent-2");
    m.requestFailed(1, "timeout", ms(5));
    assertEquals(1, m.summarize(ms(0), ms(10)).migrations());
  }

  @Test
  void countersTrackOutstandingCompletedFailedAndArrivedTokens() {
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(1, 5, 8, ms(0));
    m.requestReleased(2, 5, 8, ms(0));
    m.requestReleased(3, 5, 8, ms(0));
    assertEquals(3, m.outstanding());
    m.tokensArrived(1, "agent-1", 4, ms(1));
    m.tokensArrived(2, "agent-1", 2, ms(1));
    m.requestFinished(1, ms(2));
    m.requestFailed(2, "boom", ms(2));
    assertEquals(1, m.completed());
    assertEquals(1, m.failed());
    assertEquals(1, m.outstanding());
    assertEquals(6, m.outputTokens()); // live count includes the failed request's 2 tokens
    assertEquals(4, m.summarize(ms(0), ms(10)).totalOutputTokens());
  }

  @Test
  void finishedRequestIsNeverCountedTwice() {
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(1, 5, 8, ms(0));
    m.tokensArrived(1, "agent-1", 2, ms(1));
    m.requestFinished(1, ms(2));
    m.requestFinished(1, ms(3));
    m.requestFailed(1, "late failure", ms(4));
    m.tokensArrived(1, "agent-1", 5, ms(5)); // a stale report after the end
    assertEquals(1, m.completed());
    assertEquals(0, m.failed());
    assertEquals(2, m.outputTokens());
    BenchmarkResult r = m.summarize(ms(0), ms(10));
    assertEquals(1, r.completed());
    assertEquals(2, r.totalOutputTokens());
    assertEquals(1.0, r.e2eMs().max(), EPS);
  }

  @Test
  void finishingWithoutTokensCountsAsFailed() {
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(1, 5, 8, ms(0));
    m.requestFinished(1, ms(2));
    assertEquals(0, m.completed());
    assertEquals(1, m.failed());
    assertEquals(MetricsRecorder.NO_OUTPUT_REASON, m.requests().get(0).failureReason());
    BenchmarkResult r = m.summarize(ms(0), ms(10));
    assertEquals(LatencyStats.EMPTY, r.ttftMs());
  }

  @Test
  void unknownRequestIdIsRejectedWithTheIdInTheMessage() {
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(1, 5, 8, ms(0));
    IllegalArgumentException tokens = assertThrows(IllegalArgumentException.class,
        () -> m.tokensArrived(424242, "agent-1", 1, ms(1)));
    assertTrue(tokens.getMessage().contains("424242"), tokens.getMessage());
    IllegalArgumentException finished = assertThrows(IllegalArgumentException.class,
        () -> m.requestFinished(515151, ms(1)));
    assertTrue(finished.getMessage().contains("515151"), finished.getMessage());
    assertThrows(IllegalArgumentException.class, () -> m.requestFailed(9, "x", ms(1)));
    assertThrows(IllegalArgumentException.class, () -> m.requestMigrated(9, "a", "b"));
  }

  @Test
  void duplicateReleaseAndNegativeCountsAreRejected() {
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(1, 5, 8, ms(0));
    assertThrows(IllegalArgumentException.class, () -> m.requestReleased(1, 5, 8, ms(1)));
    assertThrows(IllegalArgumentException.class, () -> m.tokensArrived(1, "agent-1", -1, ms(1)));
    assertThrows(IllegalArgumentException.class, () -> m.summarize(ms(5), ms(5)));
  }

  @Test
  void emptyRunSummarisesToZeros() {
    BenchmarkResult r = new MetricsRecorder().summarize(ms(0), ms(1000));
    assertEquals(0, r.completed());
    assertEquals(0.0, r.requestThroughput(), 0);
    assertEquals(LatencyStats.EMPTY, r.itlMs());
    assertEquals(List.of(), r.agents());
  }

  @Test
  void manyTokensOfOneRequestGrowTheTrace() {
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(1, 1, 1000, ms(0));
    for (int i = 1; i <= 1000; i++) {
      m.tokensArrived(1, "agent-1", 1, ms(i));
    }
    m.requestFinished(1, ms(1000));
    BenchmarkResult r = m.summarize(ms(0), ms(1000));
    assertStats(r.itlMs(), 1, 1, 1, 1, 1, 1, 999);
    assertEquals(1.0, r.tpotMs().mean(), EPS);
  }

  static void assertStats(LatencyStats s, double mean, double median, double p90, double p99,
      double min, double max, int count) {
    assertEquals(mean, s.mean(), EPS, "mean");
    assertEquals(median, s.median(), EPS, "median");
    assertEquals(p90, s.p90(), EPS, "p90");
    assertEquals(p99, s.p99(), EPS, "p99");
    assertEquals(min, s.min(), EPS, "min");
    assertEquals(max, s.max(), EPS, "max");
    assertEquals(count, s.count(), "count");
  }
}
