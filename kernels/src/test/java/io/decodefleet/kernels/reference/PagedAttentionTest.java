package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PagedAttentionTest {

  /**
   * n independent sequences, one query token each, with their own contexts placed by hand (not by
   * PagedKvCache) into blocks drawn from a shuffled pool. Every slot not holding a context position
   * is NaN, so reading past a context or from a wrong block poisons the output.
   */
  private static final class Batch {
    final int n, qHeads, kvHeads, headDim, blockSize;
    final float[] q;
    final float[][] keys; // per sequence: (contextLen, kvHeads, headDim)
    final float[][] values; // per sequence: (contextLen, kvHeads, headDim)
    final int[] contextLens; // (n)
    final int[][] blockTables; // (n)[blocks]
    final float[] kCache; // (numBlocks, blockSize, kvHeads, headDim)
    final float[] vCache; // (numBlocks, blockSize, kvHeads, headDim)

    Batch(Random random, int n, int qHeads, int kvHeads, int headDim, int blockSize, double qStd) {
      this.n = n;
      this.qHeads = qHeads;
      this.kvHeads = kvHeads;
      this.headDim = headDim;
      this.blockSize = blockSize;
      q = Closeness.gaussian(random, n * qHeads * headDim, qStd);
      // Context lengths around block boundaries, never a multiple of the block size except by luck.
      int[] menu = {1, 2, blockSize - 1, blockSize + 1, 2 * blockSize + 5, 3 * blockSize - 3, 97};
      contextLens = new int[n];
      int totalBlocks = 0;
      for (int t = 0; t < n; t++) {
        contextLens[t] = menu[(t + random.nextInt(menu.length)) % menu.length];
        totalBlocks += (contextLens[t] + blockSize - 1) / blockSize;
      }
      int numBlocks = totalBlocks + 3; // a few spare blocks nobody owns
      int[] pool = new int[numBlocks];
      for (int b = 0; b < numBlocks; b++) {
        pool[b] = b;
      }
      PagedKvCacheTest.shuffle(pool, random);
      int row = kvHeads * headDim;
      kCache = new float[numBlocks * blockSize * row];
      vCache = new float[kCache.length];
      Arrays.fill(kCache, Float.NaN);
      Arrays.fill(vCache, Float.NaN);
      keys = new float[n][];
      values = new float[n][];
      blockTables = new int[n][];
      int next = 0;
      for (int t = 0; t < n; t++) {
        int len = contextLens[t];
        keys[t] = Closeness.gaussian(random, len * row, 1.0);
        values[t] = Closeness.gaussian(random, len * row, 1.0);
        // One extra (unused, out-of-range) entry: tables may be longer than the context needs.
        int blocks = (len + blockSize - 1) / blockSize;
        blockTables[t] = Arrays.copyOf(Arrays.copyOfRange(pool, next, next + blocks), blocks + 1);
        blockTables[t][blocks] = -7;
        next += blocks;
        for (int p = 0; p < len; p++) {
          int slot = blockTables[t][p / blockSize] * blockSize + p % blockSize;
          System.arraycopy(keys[t], p * row, kCache, slot * row, row);
          System.arraycopy(values[t], p * row, vCache, slot * row, row);
        }
      }
    }

    double[] expected(double scale) {
      double[] out = new double[n * qHeads * headDim];
      int ratio = qHeads / kvHeads;
      for (int t = 0; t < n; t++) {
        for (int h = 0; h < qHeads; h++) {
          int kvHead = h / ratio;
          double[] o = AttentionOracle.attend(q, (t * qHeads + h) * headDim, keys[t], values[t],
              p -> (p * kvHeads + kvHead) * headDim, contextLens[t], headDim, scale);
          System.arraycopy(o, 0, out, (t * qHeads + h) * headDim, headDim);
        }
      }
      return out;
    }

    float[] run(float scale) {
      float[] out = new float[n * qHeads * headDim];
      PagedAttention.forward(q, n, qHeads, kvHeads, headDim, kCache, vCache, blockSize,
          blockTables, contextLens, scale, out);
      return out;
    }
  }

  @ParameterizedTest(name = "n={0} qHeads={1} kvHeads={2} headDim={3} blockSize={4}")
  @CsvSource({
    "1, 4, 4, 8, 16",
    "3, 3, 3, 64, 32",
    "3, 8, 2, 64, 16",
    "17, 4, 1, 64, 16",
    "17, 8, 1, 8, 32",
    "17, 16, 2, 64, 32",
  })
  void matchesDoubleSoftmaxOverScrambledBlocksWithoutReadingPastTheContext(
      int n, int qHeads, int kvHeads, int headDim, int blockSize) {
    Batch batch = new Batch(new Random(n * 1000 + qHeads * 100 + headDim + blockSize),
        n, qHeads, kvHeads, headDim, blockSize, 1.0);
    float scale = (float) (1.0 / Math.sqrt(headDim));

    float[] out = batch.run(scale);

    Closeness.assertClose("paged attention", batch.expected(scale), out, 2e-6, 1e-5);
  }

  @Test
  void runningMaxKeepsLargeScoresFromOverflowing() {
    // Scores of several hundred, rising late in the context, force repeated rescaling.
    Batch batch = new Batch(new Random(5), 17, 8, 1, 64, 16, 1.0);
    float scale = 10f;

    float[] out = batch.run(scale);

    Closeness.assertClose("paged attention, large scores", batch.expected(scale), out, 1e-4, 1e-4);
  }

  @Test
  void rejectsContextLongerThanItsBlockTable() {
    Batch batch = new Batch(new Random(6), 1, 4, 1, 8, 16, 1.0);
    batch.contextLens[0] = batch.blockTables[0].length * 16; // the table holds blocks+1 entries
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> batch.run(1f));
    assertTrue(e.getMessage().startsWith("blockTables[0]"), e.getMessage());
  }

  @Test
  void rejectsBlockOutsideTheCacheEmptyContextAndBadHeadRatio() {
    Batch batch = new Batch(new Random(7), 1, 4, 1, 8, 16, 1.0);
    int blocksInCache = batch.kCache.length / (16 * 8);
    batch.blockTables[0][0] = blocksInCache;
    assertThrows(IllegalArgumentException.class, () -> batch.run(1f));

    Batch empty = new Batch(new Random(8), 1, 4, 1, 8, 16, 1.0);
    empty.contextLens[0] = 0;
    assertThrows(IllegalArgumentException.class, () -> empty.run(1f));

    assertThrows(IllegalArgumentException.class,
        () -> PagedAttention.forward(new float[6 * 8], 1, 6, 4, 8, new float[16 * 4 * 8],
            new float[16 * 4 * 8], 16, new int[][] {{0}}, new int[] {1}, 1f, new float[6 * 8]));
  }

  @Test
  void rejectsTooShortArraysNamingTheParameter() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PagedAttention.forward(new float[4 * 8], 1, 4, 1, 8, new float[16 * 8],
            new float[16 * 8], 16, new int[][] {{0}}, new int[] {1}, 1f, new float[4 * 8 - 1]));
    assertTrue(e.getMessage().startsWith("out "), e.getMessage());
    IllegalArgumentException c = assertThrows(IllegalArgumentException.class,
        () -> PagedAttention.forward(new float[2 * 4 * 8], 2, 4, 1, 8, new float[16 * 8],
            new float[16 * 8], 16, new int[][] {{0}, {0}}, new int[] {1}, 1f,
            new float[2 * 4 * 8]));
    assertTrue(c.getMessage().startsWith("contextLens "), c.getMessage());
  }
}
