package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Prefill over the paged cache ({@link PagedAttention#forwardSpans}) against the recompute oracle:
 * a prompt whose rows arrive in chunks (the first from a prefix cache, say) attends exactly as
 * the whole prompt would in one dense causal pass.
 */
class PagedSpansMatchCausalTest {

  private static final double ATOL = 2e-6;
  private static final double RTOL = 2e-5;

  @ParameterizedTest(name = "len={0} chunks at {1} qHeads={2} kvHeads={3} headDim={4} blockSize={5}")
  @CsvSource({
    "70, '0 16 19 45', 8, 2, 64, 16", // a cut on a block boundary, one inside a block, a 3-row span
    "37, '0 36', 4, 4, 8, 16", // the last chunk a single row (a decode-like span)
    "90, '0 32 33 64', 16, 2, 16, 32", // a 1-row chunk between two others
    "20, '0', 8, 1, 64, 16", // one span from position 0
  })
  void chunksOfAPromptOverAScrambledCacheEqualDenseCausalAttention(
      int len, String cuts, int qHeads, int kvHeads, int headDim, int blockSize) {
    Random random = new Random(len * 31 + qHeads * 7 + headDim + blockSize);
    int row = kvHeads * headDim;
    int token = qHeads * headDim;
    float[] q = Closeness.gaussian(random, len * token, 1.0);
    float[] k = Closeness.gaussian(random, len * row, 1.0);
    float[] v = Closeness.gaussian(random, len * row, 1.0);
    float scale = (float) (1.0 / Math.sqrt(headDim));
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
    Arrays.fill(kCache, Float.NaN); // a read of an unwritten slot poisons the output
    Arrays.fill(vCache, Float.NaN);
    int[] slots = new int[len];
    for (int p = 0; p < len; p++) {
      slots[p] = table[p / blockSize] * blockSize + p % blockSize;
    }
    float[] causal = new float[len * token];
    CausalAttention.forward(q, k, v, len, qHeads, kvHeads, headDim, scale, causal);

    // Chunk by chunk, as the engine's steps run them: append the chunk's K/V, then attend.
    int[] starts = Arrays.stream((cuts + " " + len).split(" ")).mapToInt(Integer::parseInt).toArray();
    float[] chunked = new float[len * token];
    for (int c = 0; c + 1 < starts.length; c++) {
      int from = starts[c];
      int n = starts[c + 1] - from;
      PagedKvCache.append(Arrays.copyOfRange(k, from * row, (from + n) * row),
          Arrays.copyOfRange(v, from * row, (from + n) * row), n, Arrays.copyOfRange(slots, from, from + n), kCache,
          vCache, kvHeads, headDim);
      float[] out = new float[n * token];
      PagedAttention.forwardSpans(Arrays.copyOfRange(q, from * token, (from + n) * token), new int[] {0, n},
          new int[] {from}, new int[][] {table}, qHeads, kvHeads, headDim, kCache, vCache, blockSize, scale, out);
      System.arraycopy(out, 0, chunked, from * token, out.length);
    }
    Closeness.assertClose("chunked", causal, chunked, ATOL, RTOL);
  }

  @Test
  void twoSequencesInOneCallEachReadOnlyItsOwnTable() {
    Random random = new Random(5);
    int qHeads = 4;
    int kvHeads = 2;
    int headDim = 8;
    int blockSize = 4;
    int row = kvHeads * headDim;
    int token = qHeads * headDim;
    int[][] tables = {{3, 0, 5}, {1, 4}};
    float[] kCache = Closeness.gaussian(random, 6 * blockSize * row, 1.0);
    float[] vCache = Closeness.gaussian(random, 6 * blockSize * row, 1.0);
    // Sequence 0 runs positions 7..10, sequence 1 positions 2..5: two spans in one call.
    int[] starts = {0, 4, 8};
    int[] positions = {7, 2};
    float[] q = Closeness.gaussian(random, 8 * token, 1.0);
    float[] spans = new float[8 * token];
    PagedAttention.forwardSpans(q, starts, positions, tables, qHeads, kvHeads, headDim, kCache, vCache, blockSize,
        0.3f, spans);
    for (int s = 0; s < 2; s++) {
      for (int i = 0; i < 4; i++) {
        int r = starts[s] + i;
        float[] one = new float[token];
        PagedAttention.forward(Arrays.copyOfRange(q, r * token, (r + 1) * token), 1, qHeads, kvHeads, headDim,
            kCache, vCache, blockSize, new int[][] {tables[s]}, new int[] {positions[s] + i + 1}, 0.3f, one);
        Closeness.assertClose("span " + s + " row " + i, one, Arrays.copyOfRange(spans, r * token, (r + 1) * token),
            0, 0);
      }
    }
    assertThrows(IllegalArgumentException.class, () -> PagedAttention.forwardSpans(q, new int[] {0, 4, 3},
        positions, tables, qHeads, kvHeads, headDim, kCache, vCache, blockSize, 0.3f, spans));
    // Sequence 1 at positions 10..13 would need four blocks; its table has two.
    assertThrows(IllegalArgumentException.class, () -> PagedAttention.forwardSpans(q, new int[] {0, 4, 8},
        new int[] {7, 10}, tables, qHeads, kvHeads, headDim, kCache, vCache, blockSize, 0.3f, spans));
  }
}
