package io.decodefleet.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LatencyStatsTest {

  private static final double EPS = 1e-9;

  @Test
  void percentilesOfOneToTenMatchNumpyLinear() {
    LatencyStats s = LatencyStats.of(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    // numpy.percentile(np.arange(1, 11), [50, 90, 99]) == [5.5, 9.1, 9.91]
    assertEquals(5.5, s.median(), EPS);
    assertEquals(9.1, s.p90(), EPS);
    assertEquals(9.91, s.p99(), EPS);
    assertEquals(5.5, s.mean(), EPS);
    assertEquals(1, s.min(), 0);
    assertEquals(10, s.max(), 0);
    assertEquals(10, s.count());
  }

  @Test
  void unsortedInputIsSortedWithoutTouchingTheCallersArray() {
    double[] values = {15, 0, 10};
    LatencyStats s = LatencyStats.of(values);
    // sorted [0, 10, 15]: rank 1.8 -> 10 + 0.8 * 5 = 14; rank 1.98 -> 14.9
    assertEquals(10, s.median(), EPS);
    assertEquals(14, s.p90(), EPS);
    assertEquals(14.9, s.p99(), EPS);
    assertEquals(25.0 / 3, s.mean(), EPS);
    assertArrayEquals(new double[] {15, 0, 10}, values, 0);
  }

  @Test
  void evenCountMedianIsMidpointAndExactRanksNeedNoInterpolation() {
    LatencyStats four = LatencyStats.of(new double[] {4, 1, 3, 2});
    assertEquals(2.5, four.median(), EPS);
    // 11 values 0..100 step 10: p90 has rank 9.0 exactly, p99 rank 9.9
    double[] tens = new double[11];
    for (int i = 0; i < tens.length; i++) {
      tens[i] = 10 * i;
    }
    LatencyStats s = LatencyStats.of(tens);
    assertEquals(90, s.p90(), EPS);
    assertEquals(99, s.p99(), EPS);
  }

  @Test
  void singleValueIsEveryStatistic() {
    LatencyStats s = LatencyStats.of(new double[] {7.25});
    assertEquals(new LatencyStats(7.25, 7.25, 7.25, 7.25, 7.25, 7.25, 1), s);
  }

  @Test
  void emptyGivesZerosAndCountZeroLikeVllm() {
    assertEquals(new LatencyStats(0, 0, 0, 0, 0, 0, 0), LatencyStats.of(new double[0]));
  }

  @Test
  void nanSampleIsRejected() {
    assertThrows(IllegalArgumentException.class,
        () -> LatencyStats.of(new double[] {1, Double.NaN}));
  }
}
