package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ArgmaxTest {

  @Test
  void findsTheLargestOfRandomRowsRelativeToTheOffset() {
    int vocab = 37;
    int rows = 17;
    Random random = new Random(3);
    float[] logits = Closeness.gaussian(random, rows * vocab, 5.0);
    for (int r = 0; r < rows; r++) {
      int expected = 0;
      for (int i = 1; i < vocab; i++) {
        if (logits[r * vocab + i] > logits[r * vocab + expected]) {
          expected = i;
        }
      }
      assertEquals(expected, Argmax.argmax(logits, r * vocab, vocab), "row " + r);
    }
  }

  @Test
  void tiesGoToTheLowestIndex() {
    assertEquals(1, Argmax.argmax(new float[] {1f, 3f, 2f, 3f, 3f}, 0, 5));
    assertEquals(0, Argmax.argmax(new float[] {0f, -0f}, 0, 2));
    float minusInf = Float.NEGATIVE_INFINITY;
    assertEquals(0, Argmax.argmax(new float[] {minusInf, minusInf}, 0, 2));
  }

  @Test
  void nanNeverWins() {
    float nan = Float.NaN;
    assertEquals(2, Argmax.argmax(new float[] {nan, 1f, 2f, nan}, 0, 4));
    assertEquals(1, Argmax.argmax(new float[] {nan, -5f, nan, -7f}, 0, 4));
    assertEquals(0, Argmax.argmax(new float[] {Float.NEGATIVE_INFINITY, nan}, 0, 2));
    assertEquals(2, Argmax.argmax(new float[] {1f, nan, Float.POSITIVE_INFINITY}, 0, 3));
  }

  @Test
  void allNanRowHasNoWinner() {
    assertEquals(-1, Argmax.argmax(new float[] {9f, Float.NaN, Float.NaN}, 1, 2));
  }

  @Test
  void looksOnlyInsideTheRange() {
    float[] logits = {100f, 1f, 2f, 3f, 100f};
    assertEquals(2, Argmax.argmax(logits, 1, 3));
  }

  @Test
  void rejectsEmptyOrOutOfBoundsRange() {
    assertThrows(IllegalArgumentException.class, () -> Argmax.argmax(new float[3], 0, 0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Argmax.argmax(new float[3], 1, 3));
    assertTrue(e.getMessage().startsWith("logits "), e.getMessage());
  }
}
