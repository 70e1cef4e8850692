package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.decodefleet.kernels.reference.Rope;
import org.junit.jupiter.api.Test;

/** The RoPE kernel's table: cos then sin of position times each frequency, plain or Llama 3.1's. */
class RopeTableTest {

  @Test
  void rowsAreCosinesThenSinesOfThePositionTimesEachFrequency() {
    double[] f = Rope.llama3Frequencies(128, 500000.0, 8.0, 1.0, 4.0, 8192);
    float[] table = RopeTable.cosSin(9000, 128, f);
    for (int p : new int[] {0, 1, 4096, 8999}) {
      for (int i = 0; i < 64; i++) {
        assertEquals((float) Math.cos(p * f[i]), table[p * 128 + i], 0f, "cos at " + p + ", " + i);
        assertEquals((float) Math.sin(p * f[i]), table[p * 128 + 64 + i], 0f, "sin at " + p + ", " + i);
      }
    }
    assertArrayEquals(RopeTable.cosSin(64, 32, 10000.0), RopeTable.cosSin(64, 32, Rope.frequencies(32, 10000.0)));
    assertThrows(IllegalArgumentException.class, () -> RopeTable.cosSin(8, 128, new double[63]));
  }
}
