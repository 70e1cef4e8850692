package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EmbeddingTest {

  private static final int VOCAB = 53;
  private static final int HIDDEN = 37;

  @ParameterizedTest(name = "n={0}")
  @ValueSource(ints = {1, 3, 17})
  void copiesTheTableRowOfEachTokenExactly(int n) {
    Random random = new Random(11 + n);
    float[] table = Closeness.uniform(random, VOCAB * HIDDEN, 1f);
    int[] tokens = new int[n];
    for (int i = 0; i < n; i++) {
      tokens[i] = random.nextInt(VOCAB);
    }
    tokens[0] = VOCAB - 1; // the last row, where an off-by-one stride would run out of the table
    float[] out = new float[n * HIDDEN];

    Embedding.gather(table, VOCAB, HIDDEN, tokens, n, out);

    float[] expected = new float[n * HIDDEN];
    for (int i = 0; i < n; i++) {
      for (int d = 0; d < HIDDEN; d++) {
        expected[i * HIDDEN + d] = table[tokens[i] * HIDDEN + d];
      }
    }
    assertArrayEquals(expected, out);
  }

  @Test
  void repeatedTokenGetsTheSameRowEachTime() {
    float[] table = Closeness.uniform(new Random(3), VOCAB * HIDDEN, 1f);
    float[] out = new float[3 * HIDDEN];

    Embedding.gather(table, VOCAB, HIDDEN, new int[] {7, 0, 7}, 3, out);

    float[] first = java.util.Arrays.copyOfRange(out, 0, HIDDEN);
    float[] third = java.util.Arrays.copyOfRange(out, 2 * HIDDEN, 3 * HIDDEN);
    assertArrayEquals(first, third);
  }

  @Test
  void rejectsTokenOutsideTheVocabulary() {
    float[] table = new float[VOCAB * HIDDEN];
    float[] out = new float[HIDDEN];
    IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
        () -> Embedding.gather(table, VOCAB, HIDDEN, new int[] {VOCAB}, 1, out));
    assertTrue(tooBig.getMessage().contains("tokens[0]"), tooBig.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> Embedding.gather(table, VOCAB, HIDDEN, new int[] {-1}, 1, out));
  }

  @Test
  void rejectsTooShortArraysNamingTheParameter() {
    float[] table = new float[VOCAB * HIDDEN];
    IllegalArgumentException shortOut = assertThrows(IllegalArgumentException.class,
        () -> Embedding.gather(table, VOCAB, HIDDEN, new int[] {1, 2}, 2, new float[HIDDEN]));
    assertTrue(shortOut.getMessage().startsWith("out "), shortOut.getMessage());
    IllegalArgumentException shortTable = assertThrows(IllegalArgumentException.class,
        () -> Embedding.gather(new float[10], VOCAB, HIDDEN, new int[] {1}, 1, new float[HIDDEN]));
    assertTrue(shortTable.getMessage().startsWith("table "), shortTable.getMessage());
  }
}
