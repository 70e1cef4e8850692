package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RmsNormTest {

  private static final float EPS = 1e-5f;

  /** The textbook formula, entirely in double. */
  private static double[] naive(float[] x, float[] weight, double eps, int rows, int hidden) {
    double[] out = new double[rows * hidden];
    for (int r = 0; r < rows; r++) {
      double sumSq = 0.0;
      for (int i = 0; i < hidden; i++) {
        sumSq += (double) x[r * hidden + i] * x[r * hidden + i];
      }
      double denom = Math.sqrt(sumSq / hidden + eps);
      for (int i = 0; i < hidden; i++) {
        out[r * hidden + i] = x[r * hidden + i] / denom * weight[i];
      }
    }
    return out;
  }

  @ParameterizedTest(name = "rows={0} hidden={1}")
  @CsvSource({"1, 37", "3, 37", "17, 37", "3, 1", "2, 4096"})
  void matchesTheDoubleFormula(int rows, int hidden) {
    Random random = new Random(rows * 31 + hidden);
    float[] x = Closeness.gaussian(random, rows * hidden, 2.0);
    float[] weight = Closeness.uniform(random, hidden, 1.5f);
    float[] out = new float[rows * hidden];

    RmsNorm.forward(x, weight, EPS, rows, hidden, out);

    Closeness.assertClose("rmsnorm", naive(x, weight, EPS, rows, hidden), out, 1e-6, 2e-6);
  }

  @Test
  void largeActivationsDoNotOverflowTheMeanOfSquares() {
    // Squares of 1e25 overflow float32; the result is still a well-scaled row.
    int hidden = 37;
    float[] x = Closeness.gaussian(new Random(5), hidden, 1e25);
    float[] weight = Closeness.uniform(new Random(6), hidden, 1f);
    float[] out = new float[hidden];

    RmsNorm.forward(x, weight, EPS, 1, hidden, out);

    Closeness.assertClose("rmsnorm 1e25", naive(x, weight, EPS, 1, hidden), out, 1e-6, 2e-6);
  }

  @ParameterizedTest(name = "rows={0}")
  @CsvSource({"1", "3", "17"})
  void fusedAddUpdatesTheResidualAndNormalisesTheSum(int rows) {
    int hidden = 37;
    Random random = new Random(100 + rows);
    float[] x = Closeness.gaussian(random, rows * hidden, 1.0);
    float[] residual = Closeness.gaussian(random, rows * hidden, 3.0);
    float[] weight = Closeness.uniform(random, hidden, 1.5f);
    float[] sum = new float[rows * hidden];
    for (int i = 0; i < sum.length; i++) {
      sum[i] = residual[i] + x[i];
    }
    float[] out = new float[rows * hidden];

    RmsNorm.addResidualAndNorm(x, residual, weight, EPS, rows, hidden, out);

    assertArrayEquals(sum, residual, "residual must hold residual + x, rounded once in float32");
    Closeness.assertClose("fused rmsnorm", naive(sum, weight, EPS, rows, hidden), out, 1e-6, 2e-6);
  }

  @Test
  void fusedVersionEqualsAddThenForwardBitForBit() {
    int rows = 3;
    int hidden = 37;
    Random random = new Random(77);
    float[] x = Closeness.gaussian(random, rows * hidden, 1.0);
    float[] residual = Closeness.gaussian(random, rows * hidden, 1.0);
    float[] weight = Closeness.uniform(random, hidden, 1f);
    float[] sum = new float[rows * hidden];
    for (int i = 0; i < sum.length; i++) {
      sum[i] = residual[i] + x[i];
    }
    float[] separate = new float[rows * hidden];
    RmsNorm.forward(sum, weight, EPS, rows, hidden, separate);
    float[] fused = new float[rows * hidden];

    RmsNorm.addResidualAndNorm(x, residual, weight, EPS, rows, hidden, fused);

    assertArrayEquals(separate, fused);
  }

  @Test
  void outputMayOverwriteTheInput() {
    int hidden = 37;
    float[] x = Closeness.gaussian(new Random(8), 2 * hidden, 1.0);
    float[] weight = Closeness.uniform(new Random(9), hidden, 1f);
    float[] expected = new float[2 * hidden];
    RmsNorm.forward(x, weight, EPS, 2, hidden, expected);

    RmsNorm.forward(x, weight, EPS, 2, hidden, x);

    assertArrayEquals(expected, x);
  }

  @Test
  void rejectsTooShortArraysNamingTheParameter() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RmsNorm.forward(new float[74], new float[36], EPS, 2, 37, new float[74]));
    assertTrue(e.getMessage().startsWith("weight "), e.getMessage());
    IllegalArgumentException r = assertThrows(IllegalArgumentException.class,
        () -> RmsNorm.addResidualAndNorm(
            new float[74], new float[73], new float[37], EPS, 2, 37, new float[74]));
    assertTrue(r.getMessage().startsWith("residual "), r.getMessage());
  }
}
