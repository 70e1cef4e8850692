package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Fp8MatmulTest {

  private static byte[] codes(Random r, int count) {
    byte[] c = new byte[count];
    for (int i = 0; i < count; i++) {
      c[i] = Fp8E4m3.encode((float) (r.nextGaussian() * 40));
    }
    return c;
  }

  private static float[] dequantized(byte[] w, float[] scales, int n, int k) {
    float[] out = new float[n * k];
    for (int j = 0; j < n; j++) Fp8E4m3.decode(w, j * k, k, scales[scales.length == 1 ? 0 : j], out, j * k);
    return out;
  }

  @ParameterizedTest(name = "m={0} n={1} k={2}")
  @CsvSource({"1, 1, 16", "17, 33, 48", "8, 100, 1024", "3, 7, 13"})
  void powerOfTwoScalesGiveMatmulOverTheDequantizedWeightsBitForBit(int m, int n, int k) {
    Random r = new Random(31L * m + n + k);
    float[] x = Closeness.gaussian(r, m * k, 1.0);
    byte[] w = codes(r, n * k);
    float[] scales = new float[n];
    for (int j = 0; j < n; j++) scales[j] = (float) Math.scalb(1.0, r.nextInt(16) - 12);
    float[] got = new float[m * n];
    Fp8Matmul.matmulTransposed(x, w, scales, m, n, k, got);
    float[] want = new float[m * n];
    Matmul.matmulTransposed(x, dequantized(w, scales, n, k), m, n, k, want);
    assertArrayEquals(want, got, 0f);
  }

  @ParameterizedTest(name = "m={0} n={1} k={2}")
  @CsvSource({"17, 33, 48", "4, 64, 4096"})
  void anyScaleStaysWithinFloatRoundingOfTheDequantizedProduct(int m, int n, int k) {
    Random r = new Random(m + 7L * n);
    float[] x = Closeness.gaussian(r, m * k, 1.0);
    byte[] w = codes(r, n * k);
    float[] perTensor = {0.0123f};
    float[] got = new float[m * n];
    Fp8Matmul.matmulTransposed(x, w, perTensor, m, n, k, got);
    double[] want = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int p = 0; p < k; p++) s += (double) x[i * k + p] * Fp8E4m3.decode(w[j * k + p]);
        want[i * n + j] = s * perTensor[0];
      }
    }
    Closeness.assertClose("fp8 matmul", want, got, 1e-4, 1e-5); // float32 sums of 4096 terms of about 0.5
  }

  @ParameterizedTest(name = "{0} scales")
  @CsvSource({"2", "0"})
  void refusesScalesThatAreNeitherOnePerRowNorOne(int count) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Fp8Matmul.matmulTransposed(new float[16], new byte[48], new float[count], 1, 3, 16, new float[3]));
    assertEquals("scales has " + count + " values: 1 or n (3) are needed", e.getMessage());
  }
}
