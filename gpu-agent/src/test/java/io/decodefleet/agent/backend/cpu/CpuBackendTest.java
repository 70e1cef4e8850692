package io.decodefleet.agent.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CpuBackendTest {
  private static final ModelConfig TINY = ModelConfig.preset("tiny");
  private static final int[] TOKENS = {1, 17, 400, 3, 999, 64, 5, 1023, 0, 77, 12};

  private static CpuBackend load(long seed) {
    CpuBackend b = new CpuBackend(8L << 20);
    b.loadModel(TINY, seed);
    b.allocateKvCache(8, 4);
    return b;
  }

  @Test
  void sameSeedGivesBitIdenticalLogits() {
    try (CpuBackend a = load(1234); CpuBackend b = load(1234)) {
      float[] la = a.forwardWithoutCache(TOKENS);
      float[] lb = b.forwardWithoutCache(TOKENS);
      assertEquals(TOKENS.length * TINY.vocabSize(), la.length);
      for (float v : la) assertTrue(Float.isFinite(v), "non-finite logit");
      assertTrue(Arrays.equals(la, lb), "same seed, different logits");
      // Also through the paged path.
      assertTrue(Arrays.equals(a.forward(prefill(TOKENS)), b.forward(prefill(TOKENS))));
    }
  }

  @Test
  void differentSeedGivesDifferentLogits() {
    try (CpuBackend a = load(1234); CpuBackend b = load(1235)) {
      float[] la = a.forwardWithoutCache(TOKENS);
      float[] lb = b.forwardWithoutCache(TOKENS);
      int same = 0;
      for (int i = 0; i < la.length; i++) if (la[i] == lb[i]) same++;
      assertTrue(same < la.length / 100, "seed barely changes the logits: " + same + " equal of " + la.length);
    }
  }

  @Test
  void logitsAreNotDegenerate() {
    try (CpuBackend a = load(7)) {
      float[] l = a.forwardWithoutCache(TOKENS);
      int v = TINY.vocabSize();
      // Different positions must predict differently (the model is not constant).
      assertFalse(Arrays.equals(Arrays.copyOfRange(l, 0, v), Arrays.copyOfRange(l, v, 2 * v)));
    }
  }

  private static final int[] SCATTERED = {5, 2, 7}; // block table of 3 blocks of 4 tokens

  /** Tokens at positions [from, from + tokens.length) of one sequence, block table SCATTERED, block size 4. */
  private static ForwardBatch batch(int[] tokens, int from) {
    int n = tokens.length;
    int[] positions = new int[n];
    int[] slots = new int[n];
    int[][] tables = new int[n][];
    int[] ctx = new int[n];
    int[] rows = new int[n];
    for (int i = 0; i < n; i++) {
      int pos = from + i;
      positions[i] = pos;
      slots[i] = SCATTERED[pos / 4] * 4 + pos % 4;
      tables[i] = SCATTERED;
      ctx[i] = pos + 1;
      rows[i] = i;
    }
    return new ForwardBatch(tokens, positions, slots, tables, ctx, rows);
  }

  private static ForwardBatch prefill(int[] tokens) {
    return batch(tokens, 0);
  }

  @Test
  void pagedPrefillThenDecodeMatchesDenseRecompute() {
    try (CpuBackend a = new CpuBackend(8L << 20)) {
      a.loadModel(TINY, 3);
      a.allocateKvCache(8, 4);
      int v = TINY.vocabSize();
      int n = TOKENS.length;
      float[] dense = a.forwardWithoutCache(TOKENS);
      // Prefill all but the last token (in two chunks) into scattered blocks, then decode the last one alone.
      float[] chunk1 = a.forward(batch(Arrays.copyOfRange(TOKENS, 0, 6), 0));
      float[] chunk2 = a.forward(batch(Arrays.copyOfRange(TOKENS, 6, n - 1), 6));
      float[] decode = a.forward(batch(new int[] {TOKENS[n - 1]}, n - 1));
      for (int p = 0; p < n; p++) {
        float[] got = p < 6 ? Arrays.copyOfRange(chunk1, p * v, (p + 1) * v)
            : p < n - 1 ? Arrays.copyOfRange(chunk2, (p - 6) * v, (p - 5) * v) : decode;
        float[] want = Arrays.copyOfRange(dense, p * v, (p + 1) * v);
        assertClose(want, got, p);
      }
    }
  }

  private static void assertClose(float[] expected, float[] actual, int pos) {
    double maxDiff = 0;
    double maxRef = 0;
    for (int i = 0; i < expected.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
      maxRef = Math.max(maxRef, Math.abs(expected[i]));
    }
    assertTrue(maxDiff / maxRef < 1e-4, "position " + pos + ": relative error " + maxDiff / maxRef);
  }

  @Test
  void kvBlockCapacityFollowsTheMemoryBudget() {
    CpuBackend b = new CpuBackend(1L << 20);
    b.loadModel(TINY, 1);
    long perBlock = TINY.kvBytesPerToken(Float.BYTES) * 16;
    assertEquals((int) ((1L << 20) / perBlock), b.kvBlockCapacity(16));
    assertEquals(2 * b.kvBlockCapacity(16), b.kvBlockCapacity(8), 1);
  }
}
