package io.decodefleet.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SweepReportTest {

  private static final double EPS = 1e-12;

  /** A point whose run produced {@code tokens} output tokens in exactly one second. */
  private static SweepPoint pointAt(int worldSize, int tokens) {
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(1, 4, tokens, SweepFixture.ms(0));
    m.tokensArrived(1, "agent-0", tokens, SweepFixture.ms(10));
    m.requestFinished(1, SweepFixture.ms(10));
    BenchmarkResult result = m.summarize(SweepFixture.ms(0), SweepFixture.ms(1000));
    return SweepPoint.of(worldSize, result, m.requests(), null, null, null);
  }

  private static SweepReport sweepOf(SloSpec slos, SweepPoint... points) {
    return new SweepReport("cmd", null, null, "hw", "cpu", "tiny", "2025-06-01T12:00:00Z", slos,
        List.of(points));
  }

  private static List<Double> efficiencies(SweepReport report) {
    return report.points().stream().map(SweepPoint::scalingEfficiency).toList();
  }

  @Test
  void efficiencyIsThroughputPerGpuRelativeToWorldSizeOne() {
    SweepReport report = sweepOf(null, pointAt(1, 100), pointAt(2, 190), pointAt(4, 360),
        pointAt(8, 840));
    assertEquals(1, report.baseWorldSize());
    List<Double> e = efficiencies(report);
    assertEquals(1.0, e.get(0), EPS);
    assertEquals(0.95, e.get(1), EPS); // 190 / (2 * 100)
    assertEquals(0.90, e.get(2), EPS); // 360 / (4 * 100)
    assertEquals(1.05, e.get(3), EPS); // superlinear shows above 1
  }

  @Test
  void withoutWorldSizeOneTheSmallestWorldSizeIsTheBase() {
    // Given out of order: the report sorts by world size.
    SweepReport report = sweepOf(null, pointAt(8, 720), pointAt(2, 200), pointAt(4, 380));
    assertEquals(List.of(2, 4, 8), report.points().stream().map(SweepPoint::worldSize).toList());
    assertEquals(2, report.baseWorldSize());
    List<Double> e = efficiencies(report);
    assertEquals(1.0, e.get(0), EPS);
    assertEquals(0.95, e.get(1), EPS); // 380 * 2 / (4 * 200)
    assertEquals(0.90, e.get(2), EPS); // 720 * 2 / (8 * 200)
  }

  @Test
  void efficiencyIsUndefinedWhenTheBaseProducedNothing() {
    assertTrue(Double.isNaN(ScalingEfficiency.relativeTo(1, 0.0, 4, 100)));
    assertTrue(Double.isNaN(ScalingEfficiency.relativeTo(1, Double.NaN, 4, 100)));
    assertEquals(1.0, ScalingEfficiency.relativeTo(2, 50, 2, 50), 0);
  }

  @Test
  void goodputOfEveryPointIsMeasuredAgainstTheReportsSlos() {
    SweepReport withSlos = SweepFixture.sweep(SloSpec.parse(List.of("ttft:100")), 1, 2);
    for (SweepPoint p : withSlos.points()) {
      double expected = SloSpec.parse(List.of("ttft:100")).goodRequests(p.requests())
          / p.result().durationSeconds();
      assertEquals(expected, p.result().requestGoodput(), EPS);
    }
    // A point that carried goodput from elsewhere loses it in a report without SLOs.
    SweepPoint measured = SweepFixture.point(2).withGoodput(SloSpec.parse(List.of("ttft:100")));
    SweepReport without = sweepOf(SloSpec.NONE, measured);
    assertNull(without.goodput());
    assertTrue(Double.isNaN(without.points().get(0).result().requestGoodput()));
  }

  @Test
  void duplicateOrMissingPointsAreRejected() {
    IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
        () -> sweepOf(null, pointAt(2, 10), pointAt(2, 20)));
    assertTrue(twice.getMessage().contains("world size 2"), twice.getMessage());
    assertThrows(IllegalArgumentException.class, () -> sweepOf(null));
    assertThrows(IllegalArgumentException.class, () -> pointAt(0, 10));
  }

  @Test
  void pointLookupByWorldSize() {
    SweepReport report = SweepFixture.sweep(null, 1, 4);
    assertEquals(4, report.point(4).orElseThrow().worldSize());
    assertTrue(report.point(2).isEmpty());
  }
}
