package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CausalAttentionTest {

  static double[] naive(float[] q, float[] k, float[] v, int n, int qHeads, int kvHeads,
      int headDim, double scale) {
    double[] out = new double[n * qHeads * headDim];
    int ratio = qHeads / kvHeads;
    for (int i = 0; i < n; i++) {
      for (int h = 0; h < qHeads; h++) {
        int kvHead = h / ratio;
        double[] o = AttentionOracle.attend(q, (i * qHeads + h) * headDim, k, v,
            j -> (j * kvHeads + kvHead) * headDim, i + 1, headDim, scale);
        System.arraycopy(o, 0, out, (i * qHeads + h) * headDim, headDim);
      }
    }
    return out;
  }

  @ParameterizedTest(name = "n={0} qHeads={1} kvHeads={2} headDim={3}")
  @CsvSource({
    "1, 4, 4, 8", "3, 4, 1, 64", "17, 8, 1, 8", "17, 3, 3, 64", "17, 8, 2, 64", "40, 16, 2, 8",
  })
  void eachTokenAttendsToItselfAndEarlierTokensOnly(int n, int qHeads, int kvHeads, int headDim) {
    Random random = new Random(n * 100 + qHeads * 10 + headDim);
    float[] q = Closeness.gaussian(random, n * qHeads * headDim, 1.0);
    float[] k = Closeness.gaussian(random, n * kvHeads * headDim, 1.0);
    float[] v = Closeness.gaussian(random, n * kvHeads * headDim, 1.0);
    float scale = (float) (1.0 / Math.sqrt(headDim));
    float[] out = new float[n * qHeads * headDim];

    CausalAttention.forward(q, k, v, n, qHeads, kvHeads, headDim, scale, out);

    Closeness.assertClose("causal attention",
        naive(q, k, v, n, qHeads, kvHeads, headDim, scale), out, 2e-6, 1e-5);
  }

  @Test
  void firstTokenReturnsItsOwnValue() {
    float[] q = Closeness.gaussian(new Random(1), 8, 10.0);
    float[] k = Closeness.gaussian(new Random(2), 8, 10.0);
    float[] v = Closeness.gaussian(new Random(3), 8, 1.0);
    float[] out = new float[8];

    CausalAttention.forward(q, k, v, 1, 1, 1, 8, 0.35f, out);

    org.junit.jupiter.api.Assertions.assertArrayEquals(v, out);
  }

  @Test
  void largeScoresDoNotOverflowTheSoftmax() {
    int n = 17;
    int headDim = 64;
    Random random = new Random(4);
    float[] q = Closeness.gaussian(random, n * 4 * headDim, 1.0);
    float[] k = Closeness.gaussian(random, n * headDim, 1.0);
    float[] v = Closeness.gaussian(random, n * headDim, 1.0);
    float scale = 10f; // scores of several hundred: exp() of them overflows float32
    float[] out = new float[n * 4 * headDim];

    CausalAttention.forward(q, k, v, n, 4, 1, headDim, scale, out);

    Closeness.assertClose("causal attention, large scores",
        naive(q, k, v, n, 4, 1, headDim, scale), out, 1e-4, 1e-4);
  }

  @Test
  void rejectsIncompatibleHeadCountsAndShortArrays() {
    assertThrows(IllegalArgumentException.class,
        () -> CausalAttention.forward(new float[6 * 8], new float[4 * 8], new float[4 * 8],
            1, 6, 4, 8, 1f, new float[6 * 8]));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CausalAttention.forward(new float[2 * 8], new float[2 * 8], new float[2 * 8 - 1],
            2, 1, 1, 8, 1f, new float[2 * 8]));
    assertTrue(e.getMessage().startsWith("v "), e.getMessage());
  }
}
