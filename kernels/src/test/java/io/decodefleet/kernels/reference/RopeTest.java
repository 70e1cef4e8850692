package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RopeTest {

  /**
   * rotate_half written independently: q * cos + rotate_half(q) * sin, with the frequency from
   * exp/log rather than pow, and cos/sin duplicated over both halves as Hugging Face builds them.
   */
  private static double[] naive(
      float[] x, int n, int heads, int headDim, int[] positions, double theta) {
    int half = headDim / 2;
    double[] out = new double[n * heads * headDim];
    for (int t = 0; t < n; t++) {
      double[] cos = new double[headDim];
      double[] sin = new double[headDim];
      for (int d = 0; d < headDim; d++) {
        double freq = Math.exp(-Math.log(theta) * (2.0 * (d % half)) / headDim);
        cos[d] = Math.cos(positions[t] * freq);
        sin[d] = Math.sin(positions[t] * freq);
      }
      for (int h = 0; h < heads; h++) {
        int base = (t * heads + h) * headDim;
        for (int d = 0; d < headDim; d++) {
          double rotated = d < half ? -x[base + d + half] : x[base + d - half];
          out[base + d] = x[base + d] * cos[d] + rotated * sin[d];
        }
      }
    }
    return out;
  }

  @ParameterizedTest(name = "n={0} heads={1} headDim={2} theta={3}")
  @CsvSource({
    "1, 3, 8, 10000", "3, 3, 64, 10000", "17, 5, 8, 500000", "17, 2, 64, 500000", "3, 1, 2, 10000",
  })
  void matchesRotateHalfInDouble(int n, int heads, int headDim, double theta) {
    Random random = new Random(n * 7 + headDim);
    float[] x = Closeness.gaussian(random, n * heads * headDim, 1.0);
    int[] positions = new int[n];
    for (int t = 0; t < n; t++) {
      positions[t] = random.nextInt(131072);
    }
    positions[0] = 0;
    double[] expected = naive(x, n, heads, headDim, positions, theta);

    Rope.apply(x, n, heads, headDim, positions, theta);

    // Only the final rounding to float32 separates the two, even at positions around 1e5.
    Closeness.assertClose("rope", expected, x, 1e-6, 1e-6);
  }

  @Test
  void pairsElementIWithElementIPlusHalfNotItsNeighbour() {
    // headDim 4: pair (0, 2) turns at 1 rad/position, pair (1, 3) at 10000^-0.5 = 0.01 rad.
    float[] x = {1f, 0f, 0f, 0f};

    Rope.apply(x, 1, 1, 4, new int[] {1}, 10000.0);

    assertEquals((float) Math.cos(1.0), x[0]);
    assertEquals(0f, x[1]);
    assertEquals((float) Math.sin(1.0), x[2]);
    assertEquals(0f, x[3]);
  }

  @Test
  void positionZeroLeavesTheVectorUnchanged() {
    float[] x = Closeness.gaussian(new Random(1), 3 * 64, 1.0);
    float[] before = x.clone();

    Rope.apply(x, 1, 3, 64, new int[] {0}, 10000.0);

    assertArrayEquals(before, x);
  }

  @Test
  void eachTokenUsesItsOwnPosition() {
    // The same vector at two positions in one call equals two separate calls.
    float[] v = Closeness.gaussian(new Random(2), 8, 1.0);
    float[] both = new float[16];
    System.arraycopy(v, 0, both, 0, 8);
    System.arraycopy(v, 0, both, 8, 8);
    float[] at5 = v.clone();
    float[] at900 = v.clone();

    Rope.apply(both, 2, 1, 8, new int[] {5, 900}, 10000.0);
    Rope.apply(at5, 1, 1, 8, new int[] {5}, 10000.0);
    Rope.apply(at900, 1, 1, 8, new int[] {900}, 10000.0);

    assertArrayEquals(at5, java.util.Arrays.copyOfRange(both, 0, 8));
    assertArrayEquals(at900, java.util.Arrays.copyOfRange(both, 8, 16));
  }

  @Test
  void rejectsOddHeadDimAndShortArrays() {
    assertThrows(IllegalArgumentException.class,
        () -> Rope.apply(new float[7], 1, 1, 7, new int[] {0}, 10000.0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Rope.apply(new float[16], 2, 1, 8, new int[] {0}, 10000.0));
    assertTrue(e.getMessage().startsWith("positions "), e.getMessage());
  }

  /**
   * Llama 3.1's frequencies (theta 500000, head dim 128, factor 8, low 1, high 4, original 8192): the
   * values below were computed apart from this code, from the rule as Hugging Face states it, in
   * double. Wavelengths under 2048 keep their frequency, those past 8192 are slowed 8 times, the six
   * between (indices 29 to 34) are blended.
   */
  @Test
  void llama3FrequenciesKeepShortWavelengthsSlowLongOnesAndBlendBetween() {
    double[] f = Rope.llama3Frequencies(128, 500000.0, 8.0, 1.0, 4.0, 8192);
    double[] plain = Rope.frequencies(128, 500000.0);
    assertEquals(64, f.length);
    double[][] want = {
        {0, 1.0}, {20, 0.016560440080994446}, {29, 0.002166570763503359}, {30, 0.0013718935677611381},
        {31, 0.0008567514129196321}, {32, 0.0005248461609929547}, {33, 0.00031269375038406517},
        {34, 0.0001785078127679964}, {40, 3.428102195952591e-05}, {63, 3.068925988914511e-07}};
    for (double[] w : want) {
      int i = (int) w[0];
      assertEquals(w[1], f[i], 1e-15 * w[1], "frequency " + i);
    }
    for (int i = 0; i < 64; i++) {
      double wavelength = 2 * Math.PI / plain[i];
      if (wavelength < 2048) assertEquals(plain[i], f[i], 0.0, "kept " + i);
      if (wavelength > 8192) assertEquals(plain[i] / 8, f[i], 1e-18, "slowed " + i);
      assertTrue(f[i] <= plain[i] && f[i] >= plain[i] / 8, "between the two at " + i);
    }
  }

  @Test
  void givenFrequenciesRotateAsTheBaseDoesWhenTheyAreTheBasesAndOtherwiseByThemselves() {
    Random r = new Random(9);
    float[] x = new float[3 * 2 * 8];
    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
    int[] positions = {0, 7, 70000};
    float[] byBase = x.clone();
    float[] byFrequencies = x.clone();
    Rope.apply(byBase, 3, 2, 8, positions, 10000.0);
    Rope.apply(byFrequencies, 3, 2, 8, positions, Rope.frequencies(8, 10000.0));
    assertArrayEquals(byBase, byFrequencies, 0f);
    // One frequency of 0.5 on pair 0, none on the others: position 7 turns pair 0 by 3.5 rad only.
    float[] y = x.clone();
    Rope.apply(y, 3, 2, 8, positions, new double[] {0.5, 0, 0, 0});
    int t = 1;
    double a = x[t * 16];
    double b = x[t * 16 + 4];
    assertEquals((float) (a * Math.cos(3.5) - b * Math.sin(3.5)), y[t * 16], 0f);
    assertEquals((float) (a * Math.sin(3.5) + b * Math.cos(3.5)), y[t * 16 + 4], 0f);
    assertEquals(x[t * 16 + 1], y[t * 16 + 1], 0f);
    assertThrows(IllegalArgumentException.class, () -> Rope.apply(y, 3, 2, 8, positions, new double[3]));
  }
}
