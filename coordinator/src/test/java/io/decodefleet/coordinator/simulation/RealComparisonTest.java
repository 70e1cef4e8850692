package io.decodefleet.coordinator.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class RealComparisonTest {
  private static RealComparison.Row row(double throughput, double ttft) {
    return new RealComparison.Row(2, new RealComparison.Metric(throughput, 1000, RealComparison.P50_TARGET),
        new RealComparison.Metric(ttft, 200, RealComparison.P50_TARGET),
        new RealComparison.Metric(400, 420, RealComparison.P99_TARGET),
        new RealComparison.Metric(20, 21, RealComparison.P50_TARGET),
        new RealComparison.Metric(60, 59, RealComparison.P99_TARGET));
  }

  @Test
  void severalRealRunsCompareByTheirMedianWithHalfTheirRangeBesideIt() {
    RealComparison.Row across = RealComparison.Row.across(List.of(row(900, 250), row(1100, 190), row(1000, 210)));
    RealComparison.Metric throughput = across.outputThroughput();
    assertEquals(1000, throughput.real(), 1e-9, "the median of 900, 1000 and 1100");
    assertEquals(0.10, throughput.realSpread(), 1e-12, "(1100 - 900) / 2 / 1000");
    assertEquals(1000, throughput.simulated(), 1e-9);
    assertTrue(throughput.withinTarget());
    // The TTFT median of the three is 210; the simulation's 200 is 4.8 % below it.
    assertEquals(210, across.ttftP50().real(), 1e-9);
    assertEquals(-4.76, across.ttftP50().differencePercent(), 0.01);
    // One run keeps its figure and has no spread.
    RealComparison.Row one = RealComparison.Row.across(List.of(row(900, 250)));
    assertEquals(900, one.outputThroughput().real(), 1e-9);
    assertTrue(Double.isNaN(one.outputThroughput().realSpread()));
    assertFalse(one.outputThroughput().withinTarget(), "1000 simulated against 900 real is 11 % off");

    String table = new RealComparison(List.of(across), List.of(), 3).render();
    assertTrue(table.contains("| 2 | 1000 ±10% / 1000 / +0.0 % | 210 ±14% / 200 / -4.8 % |"), table);
    assertTrue(table.contains("real = the median of 3 real runs, ± half their range"), table);
    String single = new RealComparison(List.of(one), List.of()).render();
    assertTrue(single.contains("| 2 | 900 / 1000 / +11.1 % ! | 250 / 200 / -20.0 % ! |"), single);
    assertFalse(single.contains("real = the median"), single);
  }
}
