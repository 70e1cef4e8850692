package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ArrivalProcessTest {
  private static final int N = 20_000;

  /** Gaps in seconds, the first measured from 0. */
  private static double[] gapsSeconds(long[] offsets) {
    double[] gaps = new double[offsets.length];
    long previous = 0;
    for (int i = 0; i < offsets.length; i++) {
      assertTrue(offsets[i] >= previous, "offsets must not decrease, at " + i);
      gaps[i] = (offsets[i] - previous) / 1e9;
      previous = offsets[i];
    }
    return gaps;
  }

  private static double mean(double[] xs) {
    double s = 0;
    for (double x : xs) s += x;
    return s / xs.length;
  }

  private static double cv2(double[] xs) {
    double m = mean(xs);
    double v = 0;
    for (double x : xs) v += (x - m) * (x - m);
    return v / (xs.length - 1) / (m * m);
  }

  @Test
  void allAtOnceReleasesEveryRequestAtZero() {
    assertArrayEquals(new long[5], new ArrivalProcess.AllAtOnce().offsetsNanos(5, new SplittableRandom(1)));
  }

  @Test
  void poissonGapsHaveMeanOneOverRateAndCoefficientOfVariationOne() {
    double[] gaps = gapsSeconds(ArrivalProcess.Rate.poisson(4.0).offsetsNanos(N, new SplittableRandom(11)));
    assertEquals(0.25, mean(gaps), 0.25 * 0.03);
    assertEquals(1.0, Math.sqrt(cv2(gaps)), 0.04);
    assertTrue(gaps[0] > 0, "a rate process's first request arrives one gap after the start");
  }

  @Test
  void burstinessQuarterGivesFourTimesThePoissonVariance() {
    // shape 0.25 < 1 takes the boost path of the gamma sampler
    double[] gaps = gapsSeconds(new ArrivalProcess.Rate(10.0, 0.25).offsetsNanos(N, new SplittableRandom(12)));
    assertEquals(0.1, mean(gaps), 0.1 * 0.05);
    assertEquals(4.0, cv2(gaps), 4.0 * 0.15);
  }

  @Test
  void burstinessFourGivesAQuarterOfThePoissonVariance() {
    double[] gaps = gapsSeconds(new ArrivalProcess.Rate(2.0, 4.0).offsetsNanos(N, new SplittableRandom(13)));
    assertEquals(0.5, mean(gaps), 0.5 * 0.02);
    assertEquals(0.25, cv2(gaps), 0.25 * 0.06);
  }

  @Test
  void sameSeedSameOffsetsDifferentSeedDifferent() {
    ArrivalProcess p = new ArrivalProcess.Rate(5.0, 0.5);
    long[] a = p.offsetsNanos(100, new SplittableRandom(7));
    assertArrayEquals(a, p.offsetsNanos(100, new SplittableRandom(7)));
    assertFalse(Arrays.equals(a, p.offsetsNanos(100, new SplittableRandom(8))));
  }

  @Test
  void rejectsRatesAndBurstinessThatAreNotPositiveAndFinite() {
    assertThrows(IllegalArgumentException.class, () -> new ArrivalProcess.Rate(0, 1));
    assertThrows(IllegalArgumentException.class, () -> new ArrivalProcess.Rate(Double.POSITIVE_INFINITY, 1));
    assertThrows(IllegalArgumentException.class, () -> new ArrivalProcess.Rate(Double.NaN, 1));
    assertThrows(IllegalArgumentException.class, () -> new ArrivalProcess.Rate(1, 0));
    assertThrows(IllegalArgumentException.class, () -> new ArrivalProcess.Rate(1, -2));
    assertThrows(IllegalArgumentException.class, () -> new ArrivalProcess.Rate(1, Double.NaN));
  }
}
