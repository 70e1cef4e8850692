package io.decodefleet.kernels.reference;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The decode path (PagedKvCache.append, then PagedAttention) against the recompute oracle
 * (CausalAttention on the same q, k, v): if these agree, caching changes nothing but speed.
 */
class PagedMatchesCausalTest {

  private static final double ATOL = 2e-6;
  private static final double RTOL = 2e-5;

  @ParameterizedTest(name = "len={0} qHeads={1} kvHeads={2} headDim={3} blockSize={4}")
  @CsvSource({
    "37, 4, 4, 8, 16",
    "37, 8, 2, 64, 16",
    "37, 8, 1, 8, 32",
    "70, 16, 2, 64, 32",
    "1, 8, 1, 64, 16",
    "17, 3, 3, 64, 32",
  })
  void pagedDecodeOverAScrambledCacheEqualsDenseCausalAttention(
      int len, int qHeads, int kvHeads, int headDim, int blockSize) {
    Random random = new Random(len * 1000 + qHeads * 100 + headDim * 10 + blockSize);
    int row = kvHeads * headDim;
    float[] q = Closeness.gaussian(random, len * qHeads * headDim, 1.0);
    float[] k = Closeness.gaussian(random, len * row, 1.0);
    float[] v = Closeness.gaussian(random, len * row, 1.0);
    float scale = (float) (1.0 / Math.sqrt(headDim));

    // The sequence's pages are a shuffled subset of a larger pool, so neither contiguity nor
    // ascending order of blocks can hide an indexing bug; unwritten slots are NaN.
    int blocks = (len + blockSize - 1) / blockSize;
    int numBlocks = 2 * blocks + 3;
    int[] pool = new int[numBlocks];
    for (int b = 0; b < numBlocks; b++) {
      pool[b] = b;
    }
    PagedKvCacheTest.shuffle(pool, random);
    int[] table = Arrays.copyOf(pool, blocks);
    float[] kCache = new float[numBlocks * blockSize * row];
    float[] vCache = new float[kCache.length];
    Arrays.fill(kCache, Float.NaN);
    Arrays.fill(vCache, Float.NaN);
    int[] slots = new int[len];
    for (int p = 0; p < len; p++) {
      slots[p] = table[p / blockSize] * blockSize + p % blockSize;
    }
    // Prefill all but the last token in one call, then the decode step appends the last one.
    PagedKvCache.append(k, v, len - 1, slots, kCache, vCache, kvHeads, headDim);
    PagedKvCache.append(Arrays.copyOfRange(k, (len - 1) * row, len * row),
        Arrays.copyOfRange(v, (len - 1) * row, len * row), 1,
        new int[] {slots[len - 1]}, kCache, vCache, kvHeads, headDim);

    float[] causal = new float[len * qHeads * headDim];
    CausalAttention.forward(q, k, v, len, qHeads, kvHeads, headDim, scale, causal);

    // Every token, each seeing the prefix up to and including itself.
    int[][] tables = new int[len][];
    int[] contextLens = new int[len];
    for (int t = 0; t < len; t++) {
      tables[t] = table;
      contextLens[t] = t + 1;
    }
    float[] paged = new float[len * qHeads * headDim];
    PagedAttention.forward(q, len, qHeads, kvHeads, headDim, kCache, vCache, blockSize, tables,
        contextLens, scale, paged);
    Closeness.assertClose("every token", causal, paged, ATOL, RTOL);

    // Only the last token, as in a real decode step.
    int tokenSize = qHeads * headDim;
    float[] lastQ = Arrays.copyOfRange(q, (len - 1) * tokenSize, len * tokenSize);
    float[] last = new float[tokenSize];
    PagedAttention.forward(lastQ, 1, qHeads, kvHeads, headDim, kCache, vCache, blockSize,
        new int[][] {table}, new int[] {len}, scale, last);
    Closeness.assertClose("last token",
        Arrays.copyOfRange(causal, (len - 1) * tokenSize, len * tokenSize), last, ATOL, RTOL);
  }
}
