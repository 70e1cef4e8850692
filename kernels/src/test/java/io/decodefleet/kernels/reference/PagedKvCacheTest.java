package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PagedKvCacheTest {

  @ParameterizedTest(name = "n={0} kvHeads={1} headDim={2} blockSize={3}")
  @CsvSource({"1, 1, 8, 16", "3, 2, 64, 16", "17, 4, 8, 32", "17, 1, 64, 32"})
  void writesEachTokenIntoItsSlotAndNothingElse(int n, int kvHeads, int headDim, int blockSize) {
    int numBlocks = 5;
    Random random = new Random(n + kvHeads * 10 + headDim);
    float[] k = Closeness.gaussian(random, n * kvHeads * headDim, 1.0);
    float[] v = Closeness.gaussian(random, n * kvHeads * headDim, 1.0);
    // Distinct slots scattered over all blocks, in no particular order.
    int[] allSlots = new int[numBlocks * blockSize];
    for (int s = 0; s < allSlots.length; s++) {
      allSlots[s] = s;
    }
    shuffle(allSlots, random);
    int[] slotMapping = Arrays.copyOf(allSlots, n);
    float[] kCache = new float[numBlocks * blockSize * kvHeads * headDim];
    float[] vCache = new float[kCache.length];
    Arrays.fill(kCache, Float.NaN);
    Arrays.fill(vCache, Float.NaN);

    PagedKvCache.append(k, v, n, slotMapping, kCache, vCache, kvHeads, headDim);

    boolean[] written = new boolean[numBlocks * blockSize];
    for (int t = 0; t < n; t++) {
      int block = slotMapping[t] / blockSize;
      int offset = slotMapping[t] % blockSize;
      written[slotMapping[t]] = true;
      for (int h = 0; h < kvHeads; h++) {
        for (int d = 0; d < headDim; d++) {
          int cacheIndex = ((block * blockSize + offset) * kvHeads + h) * headDim + d;
          int srcIndex = (t * kvHeads + h) * headDim + d;
          assertEquals(k[srcIndex], kCache[cacheIndex], "k of token " + t);
          assertEquals(v[srcIndex], vCache[cacheIndex], "v of token " + t);
        }
      }
    }
    int row = kvHeads * headDim;
    for (int s = 0; s < written.length; s++) {
      if (!written[s]) {
        for (int i = 0; i < row; i++) {
          assertTrue(Float.isNaN(kCache[s * row + i]) && Float.isNaN(vCache[s * row + i]),
              "slot " + s + " was not in slotMapping but was written");
        }
      }
    }
  }

  @Test
  void negativeSlotMarksAPaddingTokenThatIsNotStored() {
    float[] k = {1f, 2f, 3f, 4f};
    float[] v = {5f, 6f, 7f, 8f};
    float[] kCache = new float[4 * 2];
    float[] vCache = new float[4 * 2];

    PagedKvCache.append(k, v, 2, new int[] {-1, 2}, kCache, vCache, 1, 2);

    assertEquals("[0.0, 0.0, 0.0, 0.0, 3.0, 4.0, 0.0, 0.0]", Arrays.toString(kCache));
    assertEquals("[0.0, 0.0, 0.0, 0.0, 7.0, 8.0, 0.0, 0.0]", Arrays.toString(vCache));
  }

  @Test
  void rejectsSlotBeyondTheCacheAndShortArrays() {
    float[] kCache = new float[4 * 2];
    IllegalArgumentException beyond = assertThrows(IllegalArgumentException.class,
        () -> PagedKvCache.append(
            new float[2], new float[2], 1, new int[] {4}, kCache, new float[8], 1, 2));
    assertTrue(beyond.getMessage().startsWith("slotMapping[0]"), beyond.getMessage());
    IllegalArgumentException shortV = assertThrows(IllegalArgumentException.class,
        () -> PagedKvCache.append(
            new float[4], new float[3], 2, new int[] {0, 1}, kCache, new float[8], 1, 2));
    assertTrue(shortV.getMessage().startsWith("v "), shortV.getMessage());
    IllegalArgumentException shortCache = assertThrows(IllegalArgumentException.class,
        () -> PagedKvCache.append(
            new float[2], new float[2], 1, new int[] {0}, kCache, new float[7], 1, 2));
    assertTrue(shortCache.getMessage().startsWith("vCache "), shortCache.getMessage());
  }

  static void shuffle(int[] a, Random random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
  }
}
