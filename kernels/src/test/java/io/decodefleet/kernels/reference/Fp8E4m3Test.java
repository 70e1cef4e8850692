package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Fp8E4m3Test {

  private static int code(float x) {
    return Fp8E4m3.encode(x) & 0xff;
  }

  @ParameterizedTest(name = "{0} -> 0x{1}")
  @CsvSource({
      "0.0, 00", "-0.0, 80",
      "0.001953125, 01", // 2^-9, the smallest subnormal
      "0.013671875, 07", // 7 * 2^-9, the largest subnormal
      "0.015625, 08", // 2^-6, the smallest normal
      "1.0, 38", "-1.0, b8", "1.125, 39", "2.0, 40", "0.5, 30",
      "240.0, 77", "256.0, 78", "448.0, 7e", "-448.0, fe",
  })
  void exactValuesEncodeToTheirCodesAndBack(float value, String hex) {
    int expected = Integer.parseInt(hex, 16);
    assertEquals(expected, code(value), "code of " + value);
    assertEquals(Float.floatToIntBits(value), Float.floatToIntBits(Fp8E4m3.decode((byte) expected)));
  }

  @ParameterizedTest(name = "{0} -> 0x{1}")
  @CsvSource({
      "0.0009765625, 00", // 2^-10: half the smallest subnormal, a tie that goes to even 0
      "0.0009765626, 01", // just above the tie
      "0.0029296875, 02", // 3 * 2^-10: tie between codes 1 and 2 goes to even 2
      "0.0048828125, 02", // 5 * 2^-10: tie between codes 2 and 3 goes to even 2
      "0.0146484375, 08", // 7.5 * 2^-9: tie between the largest subnormal and the smallest normal, to even 8
      "1.0625, 38", // tie between 1.0 (mantissa 000) and 1.125 (001): to even, 1.0
      "1.1875, 3a", // tie between 1.125 (001) and 1.25 (010): to even, 1.25
      "1.9375, 40", // tie between 1.875 (111) and 2.0: carries into the next exponent
      "432.0, 7e", // tie between 416 (101) and 448 (110): to even, 448
      "0.0001, 00", // underflows to zero
      "-0.0001, 80", // keeps its sign
  })
  void roundsToNearestWithTiesToEven(float value, String hex) {
    assertEquals(Integer.parseInt(hex, 16), code(value), "code of " + value);
  }

  @Test
  void saturatesAtPlusMinus448() {
    for (float x : new float[] {448.0001f, 449f, 464f, 465f, 480f, 1e9f, Float.MAX_VALUE, Float.POSITIVE_INFINITY}) {
      assertEquals(0x7e, code(x), "code of " + x);
      assertEquals(0xfe, code(-x), "code of " + -x);
    }
  }

  @Test
  void nanEncodesToTheNanCodeAndBothNanCodesDecodeToNan() {
    assertEquals(0x7f, code(Float.NaN));
    assertTrue(Float.isNaN(Fp8E4m3.decode((byte) 0x7f)));
    assertTrue(Float.isNaN(Fp8E4m3.decode((byte) 0xff)));
  }

  @Test
  void everyFiniteCodeRoundTrips() {
    int finite = 0;
    for (int c = 0; c < 256; c++) {
      float v = Fp8E4m3.decode((byte) c);
      if (Float.isNaN(v)) continue;
      finite++;
      assertEquals(c, code(v), "code 0x" + Integer.toHexString(c) + " decodes to " + v);
    }
    assertEquals(254, finite);
  }

  /** Every float in range against the nearest of the 254 finite values, ties to the even code. */
  @Test
  void matchesABruteForceNearestSearch() {
    float[] values = new float[256];
    for (int c = 0; c < 256; c++) values[c] = Fp8E4m3.decode((byte) c);
    Random random = new Random(7);
    for (int i = 0; i < 200_000; i++) {
      // Log-uniform magnitudes from 2^-12 to 2^9, both signs, plus exact midpoints every so often.
      float x = (float) (Math.scalb(1.0 + random.nextDouble(), random.nextInt(21) - 12));
      if (i % 5 == 0) {
        int c = random.nextInt(0x7e);
        x = (values[c] + values[c + 1]) / 2;
      }
      if (random.nextBoolean()) x = -x;
      int best = -1;
      for (int c = 0; c < 256; c++) {
        if (Float.isNaN(values[c]) || Math.signum(values[c]) * Math.signum(x) < 0) continue;
        if (values[c] == 0 && ((c & 0x80) != 0) != (x < 0)) continue; // zero of the same sign
        double d = Math.abs((double) values[c] - x);
        double bd = best < 0 ? Double.POSITIVE_INFINITY : Math.abs((double) values[best] - x);
        if (d < bd || (d == bd && (c & 1) == 0)) best = c;
      }
      if (Math.abs(x) >= 448f) best = x > 0 ? 0x7e : 0xfe;
      assertEquals(best, code(x), "code of " + x);
    }
  }

  @Test
  void scaledQuantizationMapsTheLargestMagnitudeOnto448() {
    float[] w = {0.5f, -2f, 1.3f, 0f};
    float scale = Fp8E4m3.scaleFor(w);
    assertEquals(2f / 448f, scale);
    byte[] codes = new byte[4];
    Fp8E4m3.encode(w, 0, 4, scale, codes, 0);
    assertEquals(0xfe, codes[1] & 0xff);
    float[] back = new float[4];
    Fp8E4m3.decode(codes, 0, 4, scale, back, 0);
    float[] inPlace = w.clone();
    Fp8E4m3.quantizeInPlace(inPlace, scale);
    assertArrayEquals(back, inPlace);
    for (int i = 0; i < 4; i++) {
      // 3 mantissa bits: within half a step, 1/16 of the value, of the original.
      assertTrue(Math.abs(back[i] - w[i]) <= Math.abs(w[i]) / 16 + 1e-9, back[i] + " vs " + w[i]);
    }
    assertEquals(1f, Fp8E4m3.scaleFor(new float[3]));
    assertThrows(IllegalArgumentException.class, () -> Fp8E4m3.scaleFor(new float[] {1f, Float.NaN}));
    assertThrows(IllegalArgumentException.class, () -> Fp8E4m3.quantizeInPlace(w, 0f));
  }

  @Test
  void rowsAreQuantizedEachWithItsOwnScaleAndTheStridePaddingIsLeftAlone() {
    // Row 0's largest magnitude 896 gives scale 2: 3 -> 1.5 -> code 1.5 -> 3; 0.3 -> 0.15 rounds to 0.15625.
    // Row 1 is all zeros: scale 1, zeros stay. Row 2: 448 largest, scale 1: 0.1 rounds to 13/128.
    float[] x = {896f, -3f, 0.3f, 99f, 0f, 0f, 0f, 99f, 448f, -0.25f, 0.1f, 99f};
    Fp8E4m3.quantizeRows(x, 3, 3, 4);
    assertArrayEquals(new float[] {896f, -3f, 0.3125f, 99f, 0f, 0f, 0f, 99f, 448f, -0.25f, 0.1015625f, 99f}, x);
    float[] row = {1f, 2f, 3f, 1000f};
    float[] expected = row.clone();
    Fp8E4m3.quantizeInPlace(expected, 1000f / Fp8E4m3.MAX);
    Fp8E4m3.quantizeRows(row, 1, 4, 4);
    assertArrayEquals(expected, row, "one row is per-tensor quantization with that row's scale");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Fp8E4m3.quantizeRows(new float[] {1f, 2f, 3f, Float.POSITIVE_INFINITY}, 2, 2, 2));
    assertTrue(e.getMessage().startsWith("row 1, element 1 is Infinity"), e.getMessage());
  }
}
