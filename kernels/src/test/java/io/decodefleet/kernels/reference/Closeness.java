package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;

/** Tolerance assertions that report the worst element, plus seeded test data. */
final class Closeness {

  private Closeness() {}

  /**
   * Fails unless {@code |expected[i] - actual[i]| <= atol + rtol * |expected[i]|} for every i,
   * naming the element that is furthest outside its tolerance and the largest absolute error
   * overall.
   */
  static void assertClose(
      String what, double[] expected, float[] actual, double atol, double rtol) {
    if (actual.length < expected.length) {
      fail(what + ": actual has " + actual.length + " elements, expected " + expected.length);
    }
    double maxAbs = 0.0;
    int maxAbsAt = -1;
    double worstRatio = 0.0;
    int worstAt = -1;
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(expected[i] - actual[i]);
      if (Double.isNaN(err)) {
        fail(what + ": element " + i + " expected " + expected[i] + " but was " + actual[i]);
      }
      if (err > maxAbs) {
        maxAbs = err;
        maxAbsAt = i;
      }
      double ratio = err / (atol + rtol * Math.abs(expected[i]));
      if (ratio > worstRatio) {
        worstRatio = ratio;
        worstAt = i;
      }
    }
    if (worstRatio > 1.0) {
      fail(String.format(
          "%s: largest error %.3e at element %d (expected %.9g, actual %.9g); worst against"
              + " tolerance (atol %.1e + rtol %.1e * |expected|) is element %d, expected %.9g,"
              + " actual %.9g, %.2fx over",
          what, maxAbs, maxAbsAt, expected[maxAbsAt], actual[maxAbsAt], atol, rtol, worstAt,
          expected[worstAt], actual[worstAt], worstRatio));
    }
  }

  /** Same, for two float results that were computed by different algorithms. */
  static void assertClose(String what, float[] expected, float[] actual, double atol, double rtol) {
    double[] widened = new double[expected.length];
    for (int i = 0; i < expected.length; i++) {
      widened[i] = expected[i];
    }
    assertClose(what, widened, actual, atol, rtol);
  }

  /** Uniform values in [-bound, bound). */
  static float[] uniform(Random random, int count, float bound) {
    float[] a = new float[count];
    for (int i = 0; i < count; i++) {
      a[i] = (random.nextFloat() * 2f - 1f) * bound;
    }
    return a;
  }

  /** Gaussian values with the given standard deviation. */
  static float[] gaussian(Random random, int count, double std) {
    float[] a = new float[count];
    for (int i = 0; i < count; i++) {
      a[i] = (float) (random.nextGaussian() * std);
    }
    return a;
  }
}
