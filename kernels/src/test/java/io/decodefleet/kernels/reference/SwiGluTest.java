package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SwiGluTest {

  private static double[] naive(float[] gate, float[] up, int count) {
    double[] out = new double[count];
    for (int i = 0; i < count; i++) {
      double sigmoid = 1.0 / (1.0 + Math.exp(-(double) gate[i]));
      out[i] = gate[i] * sigmoid * up[i];
    }
    return out;
  }

  @ParameterizedTest(name = "count={0}")
  @ValueSource(ints = {1, 37, 3 * 37, 17 * 37})
  void matchesSiluTimesUpInDouble(int count) {
    Random random = new Random(count);
    float[] gate = Closeness.gaussian(random, count, 4.0);
    float[] up = Closeness.gaussian(random, count, 2.0);
    float[] out = new float[count];

    SwiGlu.forward(gate, up, count, out);

    Closeness.assertClose("swiglu", naive(gate, up, count), out, 1e-7, 1e-6);
  }

  @Test
  void extremeGatesStayFiniteAndSaturate() {
    float[] gate = {
      -1000f, -100f, -88.8f, 0f, 88.8f, 100f, 1000f, -Float.MAX_VALUE, Float.MAX_VALUE
    };
    float[] up = new float[gate.length];
    java.util.Arrays.fill(up, 0.5f);
    float[] out = new float[gate.length];

    SwiGlu.forward(gate, up, gate.length, out);

    for (int i = 0; i < gate.length; i++) {
      assertTrue(Float.isFinite(out[i]), "gate " + gate[i] + " gave " + out[i]);
    }
    assertEquals(0f, out[0], 0f); // silu(-1000) underflows to -0
    assertEquals(500f, out[6], 0f); // silu(1000) = 1000
    Closeness.assertClose("extreme swiglu", naive(gate, up, gate.length), out, 1e-30, 1e-6);
  }

  @Test
  void outputMayOverwriteTheGate() {
    float[] gate = Closeness.gaussian(new Random(4), 37, 3.0);
    float[] up = Closeness.gaussian(new Random(5), 37, 3.0);
    float[] expected = new float[37];
    SwiGlu.forward(gate, up, 37, expected);

    SwiGlu.forward(gate, up, 37, gate);

    org.junit.jupiter.api.Assertions.assertArrayEquals(expected, gate);
  }

  @Test
  void rejectsTooShortArraysNamingTheParameter() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SwiGlu.forward(new float[5], new float[4], 5, new float[5]));
    assertTrue(e.getMessage().startsWith("up "), e.getMessage());
  }
}
