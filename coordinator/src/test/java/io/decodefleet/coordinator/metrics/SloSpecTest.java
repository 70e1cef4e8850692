package io.decodefleet.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SloSpecTest {

  private static final double EPS = 1e-12;

  /**
   * Four requests over a 2 s run:
   * r1: 3 tokens, TTFT 100, tokens at 100, 140, 180 -> TPOT 40, E2E 180.
   * r2: 1 token at 300 -> TTFT 300, no TPOT, E2E 300.
   * r3: 3 tokens at 50, 130, 210 -> TTFT 50, TPOT 80, E2E 210.
   * r4: 1 token at 10, then fails: never good, however fast.
   */
  private static MetricsRecorder fourRequests() {
    MetricsRecorder m = new MetricsRecorder();
    for (int id = 1; id <= 4; id++) {
      m.requestReleased(id, 8, 8, SweepFixture.ms(0));
    }
    m.tokensArrived(4, "agent-0", 1, SweepFixture.ms(10));
    m.requestFailed(4, "boom", SweepFixture.ms(11));
    m.tokensArrived(3, "agent-1", 1, SweepFixture.ms(50));
    m.tokensArrived(1, "agent-0", 1, SweepFixture.ms(100));
    m.tokensArrived(3, "agent-1", 1, SweepFixture.ms(130));
    m.tokensArrived(1, "agent-0", 1, SweepFixture.ms(140));
    m.tokensArrived(1, "agent-0", 1, SweepFixture.ms(180));
    m.requestFinished(1, SweepFixture.ms(180));
    m.tokensArrived(3, "agent-1", 1, SweepFixture.ms(210));
    m.requestFinished(3, SweepFixture.ms(210));
    m.tokensArrived(2, "agent-0", 1, SweepFixture.ms(300));
    m.requestFinished(2, SweepFixture.ms(300));
    return m;
  }

  private static double goodput(String... slos) {
    MetricsRecorder m = fourRequests();
    return m.summarize(SweepFixture.ms(0), SweepFixture.ms(2000), SloSpec.parse(List.of(slos)))
        .requestGoodput();
  }

  @Test
  void goodputCountsCompletedRequestsMeetingEverySloPerSecond() {
    assertEquals(1.0, goodput("ttft:200"), EPS); // r1, r3; r2 too slow; r4 failed
    assertEquals(1.0, goodput("tpot:50"), EPS); // r1 (40) and r2 (one token meets TPOT)
    assertEquals(0.5, goodput("ttft:200", "tpot:50"), EPS); // r1 only
    assertEquals(1.0, goodput("e2el:250"), EPS); // r1 (180), r3 (210)
    assertEquals(1.5, goodput("e2el:1000"), EPS); // every completed request, never the failed one
  }

  @Test
  void anItlSloBoundsEachRequestsLargestGapBetweenTokens() {
    // r1 gaps 40, 40; r2 has none; r3 gaps 80, 80; r4 failed.
    assertEquals(1.0, goodput("itl:40"), EPS); // r1 and r2
    assertEquals(0.5, goodput("itl:39.9"), EPS); // r2 alone: one token, no gap
    assertEquals(1.5, goodput("itl:80"), EPS);
    assertEquals(0.5, goodput("itl:80", "ttft:60"), EPS); // r3 only: r1 starts at 100, r2 at 300
  }

  @Test
  void aValueEqualToItsLimitMeetsTheSlo() {
    assertEquals(1.0, goodput("ttft:100"), EPS); // r3 (50) and r1 (exactly 100)
    assertEquals(0.5, goodput("ttft:99.999"), EPS);
  }

  @Test
  void withoutSlosThereIsNoGoodput() {
    BenchmarkResult plain = fourRequests().summarize(SweepFixture.ms(0), SweepFixture.ms(2000));
    assertTrue(Double.isNaN(plain.requestGoodput()));
    assertFalse(plain.hasGoodput());
    assertFalse(plain.withGoodput(SloSpec.NONE, List.of()).hasGoodput());
    assertSame(SloSpec.NONE, SloSpec.parse(List.of()));
    assertSame(SloSpec.NONE, SloSpec.parse(null));
  }

  @Test
  void withGoodputKeepsEveryOtherField() {
    MetricsRecorder m = fourRequests();
    BenchmarkResult plain = m.summarize(SweepFixture.ms(0), SweepFixture.ms(2000));
    BenchmarkResult good = plain.withGoodput(SloSpec.parse(List.of("ttft:200")), m.requests());
    assertEquals(plain.withGoodput(null, m.requests()).toString(), plain.toString());
    assertEquals(1.0, good.requestGoodput(), EPS);
    assertEquals(plain.ttftMs(), good.ttftMs());
    assertEquals(plain.agents(), good.agents());
    assertEquals(plain.outputTokenThroughput(), good.outputTokenThroughput(), 0);
  }

  @Test
  void parseKeepsTheGivenOrderAndValues() {
    SloSpec spec = SloSpec.parse(List.of("tpot:50", " ttft : 500 ", "e2el:2000.5"));
    assertEquals(List.of("tpot", "ttft", "e2el"), List.copyOf(spec.limitsMs().keySet()));
    assertEquals(Map.of("tpot", 50.0, "ttft", 500.0, "e2el", 2000.5), spec.limitsMs());
  }

  @Test
  void badItemsAreRejectedNamingTheItemAndTheKnownMetrics() {
    assertRejected("latency:500", "unknown metric \"latency\"");
    assertRejected("TTFT:500", "unknown metric \"TTFT\"");
    assertRejected("ttft:fast", "\"fast\" is not a number");
    assertRejected("ttft:", "\"\" is not a number");
    assertRejected("ttft500", "expected METRIC:MILLISECONDS");
    assertRejected("tpot:0", "> 0 ms");
    assertRejected("tpot:-5", "> 0 ms");
    assertRejected("tpot:NaN", "> 0 ms");
    IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
        () -> SloSpec.parse(List.of("ttft:500", "tpot:50", "ttft:300")));
    assertTrue(twice.getMessage().contains("\"ttft:300\""), twice.getMessage());
    assertTrue(twice.getMessage().contains("given twice"), twice.getMessage());
  }

  @Test
  void constructorRejectsWhatParseRejects() {
    assertThrows(IllegalArgumentException.class, () -> new SloSpec(Map.of("queue", 5.0)));
    assertThrows(IllegalArgumentException.class, () -> new SloSpec(Map.of("ttft", 0.0)));
  }

  private static void assertRejected(String item, String why) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SloSpec.parse(List.of("e2el:1000", item)));
    String message = e.getMessage();
    assertTrue(message.contains("\"" + item + "\""), message);
    assertTrue(message.contains(why), message);
    assertTrue(message.endsWith("known metrics: ttft, tpot, itl, e2el"), message);
    assertFalse(message.contains("\n"), message);
  }
}
