package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The draws of {@link TokenSampling} follow the rule's distribution: softmax(l / T) over the kept
 * set, nothing outside it. One row of 8 distinct logits, N = 20000 draws at positions 0..N-1 with
 * one seed, counts against the exact probabilities (computed here from the rule's definition, by
 * brute force), Pearson's chi-square with df = kept − 1, failing below a p-value of 1e-4. The
 * p-value comes from the regularized gamma function ({@link ChiSquare}), checked below against
 * closed forms and table values. Draws are deterministic, so the test is too: the correct sampler
 * gives p between 0.12 and 0.89 on these cases, a temperature 5% off gives p below 1e-6 on the
 * uncut rows, and a cut off by one puts counts outside the kept set.
 */
class TokenSamplingDistributionTest {

  private static final float[] LOGITS = {1.2f, -0.3f, 2.5f, 0.7f, -1.1f, 1.9f, 0.1f, -2.0f};
  private static final int N = 20_000;
  private static final double ALPHA = 1e-4;
  private static final long SEED = 0x5eed_0001_2345L;

  @ParameterizedTest(name = "T={0} top_k={1} top_p={2}")
  @CsvSource({"1.0, 0, 1.0", "0.7, 0, 1.0", "1.0, 3, 1.0", "1.0, 0, 0.8", "1.3, 5, 0.9"})
  void drawsFollowSoftmaxOverTheKeptSet(float temperature, int topK, float topP) {
    double[] p = expectedProbabilities(LOGITS, temperature, topK, topP);
    int[] counts = new int[LOGITS.length];
    for (int n = 0; n < N; n++) {
      counts[TokenSampling.sample(LOGITS, 0, LOGITS.length, temperature, topP, topK, SEED, n)]++;
    }
    double chi2 = 0;
    int kept = 0;
    for (int i = 0; i < LOGITS.length; i++) {
      if (p[i] == 0) {
        assertEquals(0, counts[i], "token " + i + " is outside the kept set but was drawn");
        continue;
      }
      double e = N * p[i];
      assertTrue(e >= 5, "expected count " + e + " of token " + i + " is too small for the chi-square test");
      chi2 += (counts[i] - e) * (counts[i] - e) / e;
      kept++;
    }
    int df = kept - 1;
    double pValue = ChiSquare.survival(chi2, df);
    assertTrue(pValue >= ALPHA, String.format(Locale.ROOT, "chi-square %.2f, df %d, p %.3g < %.0e; counts %s, expected"
        + " probabilities %s", chi2, df, pValue, ALPHA, Arrays.toString(counts), Arrays.toString(p)));
  }

  /** The kept sets the cases above exercise, by hand: the distribution test is not vacuous. */
  @Test
  void theCasesCutWhatTheyShould() {
    assertEquals(8, keptCount(expectedProbabilities(LOGITS, 1f, 0, 1f)));
    assertEquals(3, keptCount(expectedProbabilities(LOGITS, 1f, 3, 1f)));
    // softmax(LOGITS) sorted: .459 .252 .125 .076 ..., cumulative .459 .712 .837: 0.8 is reached at the third.
    assertEquals(3, keptCount(expectedProbabilities(LOGITS, 1f, 0, 0.8f)));
    // The five largest of LOGITS / 1.3, renormalised: cumulative .416 .677 .830 .934: 0.9 at the fourth.
    assertEquals(4, keptCount(expectedProbabilities(LOGITS, 1.3f, 5, 0.9f)));
  }

  @Test
  void chiSquareTailMatchesClosedFormsAndTables() {
    for (double x : new double[] {0.5, 3, 18.42068074, 40}) {
      assertEquals(Math.exp(-x / 2), ChiSquare.survival(x, 2), 1e-12 * Math.max(1, Math.exp(-x / 2)));
    }
    assertEquals(0.0613688291394023, ChiSquare.survival(3.5, 1), 1e-10);
    assertEquals(0.07523524614651217, ChiSquare.survival(10, 5), 1e-10);
    // Critical values at alpha 1e-4 (scipy.stats.chi2.isf): the tail there is 1e-4.
    assertEquals(1e-4, ChiSquare.survival(15.13670523, 1), 1e-10);
    assertEquals(1e-4, ChiSquare.survival(21.10751347, 3), 1e-10);
    assertEquals(1e-4, ChiSquare.survival(29.87750391, 7), 1e-10);
  }

  /** The rule's probabilities in double, from its definition (quadratic, no sorting tricks). */
  static double[] expectedProbabilities(float[] logits, float temperature, int topK, float topP) {
    int v = logits.length;
    float[] z = new float[v];
    for (int i = 0; i < v; i++) {
      z[i] = logits[i] / temperature;
    }
    boolean[] kept = new boolean[v];
    Arrays.fill(kept, true);
    if (topK > 0 && topK < v) {
      for (int i = 0; i < v; i++) {
        int larger = 0;
        for (int j = 0; j < v; j++) {
          larger += z[j] > z[i] ? 1 : 0;
        }
        kept[i] = larger < topK; // z_i is at least the K-th largest
      }
    }
    float m = Float.NEGATIVE_INFINITY;
    for (float x : z) {
      m = Math.max(m, x);
    }
    if (topP < 1f) {
      double total = 0;
      for (int i = 0; i < v; i++) {
        total += kept[i] ? Math.exp(z[i] - m) : 0;
      }
      float tau = Float.NEGATIVE_INFINITY;
      for (int c = 0; c < v; c++) {
        if (!kept[c]) {
          continue;
        }
        double mass = 0;
        for (int i = 0; i < v; i++) {
          mass += kept[i] && z[i] >= z[c] ? Math.exp(z[i] - m) : 0;
        }
        if (mass >= topP * total && z[c] > tau) {
          tau = z[c];
        }
      }
      for (int i = 0; i < v; i++) {
        kept[i] &= z[i] >= tau;
      }
    }
    double[] p = new double[v];
    double sum = 0;
    for (int i = 0; i < v; i++) {
      p[i] = kept[i] ? Math.exp(z[i] - m) : 0;
      sum += p[i];
    }
    for (int i = 0; i < v; i++) {
      p[i] /= sum;
    }
    return p;
  }

  private static int keptCount(double[] p) {
    return (int) Arrays.stream(p).filter(x -> x > 0).count();
  }
}
