package io.decodefleet.kernels.reference;

import java.util.Arrays;

/** Grouped-query attention of decode tokens over a paged KV cache. */
public final class PagedAttention {

  private PagedAttention() {}

  /**
   * For each query token {@code t} and query head {@code h}: softmax over the first
   * {@code contextLens[t]} cached positions of {@code scale * q·k}, weighted sum of the values.
   *
   * <p>Position {@code p} of token {@code t}'s sequence lives in block {@code blockTables[t][p /
   * blockSize]} at offset {@code p % blockSize}. Query head {@code h} reads kv head {@code h /
   * (qHeads / kvHeads)}. Only the first {@code ceil(contextLens[t] / blockSize)} entries of a block
   * table are read, and nothing past the context, so unwritten slots may hold anything.
   *
   * <p>The softmax is computed in one pass with a running maximum (as a GPU kernel streaming the
   * blocks does): when a larger score arrives, the running sum and the weighted values are rescaled
   * by {@code exp(oldMax - newMax)}, so no {@code exp} ever overflows.
   *
   * @param q (n, qHeads, headDim) float32
   * @param kCache (numBlocks, blockSize, kvHeads, headDim) float32
   * @param vCache (numBlocks, blockSize, kvHeads, headDim) float32
   * @param blockTables (n)[blocks]: the cache blocks of token {@code t}'s sequence, in order
   * @param contextLens (n) how many positions token {@code t} attends to, at least 1
   * @param out (n, qHeads, headDim) float32
   */
  public static void forward(
      float[] q, // (n, qHeads, headDim) float32
      int n,
      int qHeads,
      int kvHeads,
      int headDim,
      float[] kCache, // (numBlocks, blockSize, kvHeads, headDim) float32
      float[] vCache, // (numBlocks, blockSize, kvHeads, headDim) float32
      int blockSize,
      int[][] blockTables, // (n)[blocks of that token's sequence] int32
      int[] contextLens, // (n) int32
      float scale,
      float[] out) { // (n, qHeads, headDim) float32
    checkShapes(q, n, qHeads, kvHeads, headDim, blockSize, blockTables, contextLens, out);
    Checks.length(kCache, 0, "kCache");
    Checks.length(vCache, kCache.length, "vCache");
    int slotStride = kvHeads * headDim;
    long numBlocks = kCache.length / ((long) blockSize * slotStride);

    int group = qHeads / kvHeads;
    // Per-call scratch for the query heads that share one kv head: each K/V row is read once and
    // used by the whole group, which is the point of GQA on a memory-bound decode step.
    float[] runMax = new float[group];
    float[] runSum = new float[group];
    float[] acc = new float[group * headDim];

    for (int t = 0; t < n; t++) {
      int ctx = contextLens[t];
      int[] table = blockTables[t];
      checkSequence(t, ctx, table, blockSize, numBlocks);
      int tokenBase = t * qHeads * headDim;
      for (int kvh = 0; kvh < kvHeads; kvh++) {
        Arrays.fill(runMax, Float.NEGATIVE_INFINITY);
        Arrays.fill(runSum, 0f);
        Arrays.fill(acc, 0f);
        // Query heads kvh*group .. kvh*group+group-1 are contiguous in q.
        int qBase = tokenBase + kvh * group * headDim;
        for (int b = 0, p0 = 0; p0 < ctx; b++, p0 += blockSize) {
          int inBlock = Math.min(blockSize, ctx - p0);
          int slotBase = table[b] * blockSize * slotStride + kvh * headDim;
          for (int off = 0; off < inBlock; off++) {
            int kv = slotBase + off * slotStride;
            for (int g = 0; g < group; g++) {
              float s = Dot.dot(q, qBase + g * headDim, kCache, kv, headDim) * scale;
              accumulate(s, g, kv, vCache, headDim, runMax, runSum, acc);
            }
          }
        }
        writeNormalized(acc, runSum, group, headDim, out, qBase);
      }
    }
  }

  /**
   * Prefill over the paged cache: span {@code s} is rows {@code [spanStarts[s], spanStarts[s + 1])}
   * of {@code q}, one sequence's tokens at positions {@code spanPositions[s]} onwards, whose K/V are
   * already in the cache; row {@code i} of the span attends to positions {@code 0 ..
   * spanPositions[s] + i} through {@code spanTables[s]}. This is {@link #forward} with each row's
   * context its position + 1 (what the engine's model runner hands every backend), so a chunked or
   * prefix-cached prompt computes exactly what one whole prefill would.
   *
   * @param q (rows, qHeads, headDim) float32, rows = spanStarts[spans]
   * @param spanStarts (spans + 1) ascending row offsets, starting at 0
   * @param spanPositions (spans) position of each span's first row
   * @param spanTables (spans)[blocks]: each span's sequence's block table
   * @param out (rows, qHeads, headDim) float32
   */
  public static void forwardSpans(
      float[] q, // (rows, qHeads, headDim) float32
      int[] spanStarts, // (spans + 1) int32
      int[] spanPositions, // (spans) int32
      int[][] spanTables, // (spans)[blocks] int32
      int qHeads,
      int kvHeads,
      int headDim,
      float[] kCache, // (numBlocks, blockSize, kvHeads, headDim) float32
      float[] vCache, // (numBlocks, blockSize, kvHeads, headDim) float32
      int blockSize,
      float scale,
      float[] out) { // (rows, qHeads, headDim) float32
    if (spanStarts == null || spanStarts.length < 1 || spanStarts[0] != 0) {
      throw new IllegalArgumentException("spanStarts must start at 0 but is "
          + (spanStarts == null ? "null" : Arrays.toString(spanStarts)));
    }
    int spans = spanStarts.length - 1;
    Checks.length(spanPositions, spans, "spanPositions");
    if (spanTables == null || spanTables.length < spans) {
      throw new IllegalArgumentException("spanTables has " + (spanTables == null ? "null" : spanTables.length)
          + " rows but needs " + spans);
    }
    for (int s = 0; s < spans; s++) {
      if (spanStarts[s + 1] < spanStarts[s]) {
        throw new IllegalArgumentException("spanStarts[" + (s + 1) + "] = " + spanStarts[s + 1]
            + " is below spanStarts[" + s + "] = " + spanStarts[s]);
      }
      Checks.nonNegative(spanPositions[s], "spanPositions[" + s + "]");
    }
    int rows = spanStarts[spans];
    int[][] tables = new int[rows][];
    int[] contextLens = new int[rows];
    for (int s = 0; s < spans; s++) {
      for (int r = spanStarts[s]; r < spanStarts[s + 1]; r++) {
        tables[r] = spanTables[s];
        contextLens[r] = spanPositions[s] + (r - spanStarts[s]) + 1;
      }
    }
    forward(q, rows, qHeads, kvHeads, headDim, kCache, vCache, blockSize, tables, contextLens, scale, out);
  }

  /**
   * {@link #forward} over an FP8 e4m3 cache ({@link PagedKvCache#appendFp8}): each K and V row is
   * decoded to float32 (code value times its scale) as it is read, then scored and accumulated in
   * exactly the order of {@link #forward}, so the result equals {@link #forward} over a float32 cache
   * that holds the decoded values, bit for bit.
   *
   * @param kCache (numBlocks, blockSize, kvHeads, headDim) e4m3 codes
   * @param vCache (numBlocks, blockSize, kvHeads, headDim) e4m3 codes
   */
  public static void forwardFp8(
      float[] q, // (n, qHeads, headDim) float32
      int n,
      int qHeads,
      int kvHeads,
      int headDim,
      byte[] kCache, // (numBlocks, blockSize, kvHeads, headDim) e4m3
      byte[] vCache, // (numBlocks, blockSize, kvHeads, headDim) e4m3
      float kScale,
      float vScale,
      int blockSize,
      int[][] blockTables, // (n)[blocks of that token's sequence] int32
      int[] contextLens, // (n) int32
      float scale,
      float[] out) { // (n, qHeads, headDim) float32
    checkShapes(q, n, qHeads, kvHeads, headDim, blockSize, blockTables, contextLens, out);
    if (vCache.length != kCache.length) {
      throw new IllegalArgumentException("vCache has " + vCache.length + " codes but kCache " + kCache.length);
    }
    int slotStride = kvHeads * headDim;
    long numBlocks = kCache.length / ((long) blockSize * slotStride);
    int group = qHeads / kvHeads;
    float[] runMax = new float[group];
    float[] runSum = new float[group];
    float[] acc = new float[group * headDim];
    float[] kRow = new float[headDim];
    float[] vRow = new float[headDim];
    for (int t = 0; t < n; t++) {
      int ctx = contextLens[t];
      int[] table = blockTables[t];
      checkSequence(t, ctx, table, blockSize, numBlocks);
      int tokenBase = t * qHeads * headDim;
      for (int kvh = 0; kvh < kvHeads; kvh++) {
        Arrays.fill(runMax, Float.NEGATIVE_INFINITY);
        Arrays.fill(runSum, 0f);
        Arrays.fill(acc, 0f);
        int qBase = tokenBase + kvh * group * headDim;
        for (int b = 0, p0 = 0; p0 < ctx; b++, p0 += blockSize) {
          int inBlock = Math.min(blockSize, ctx - p0);
          int slotBase = table[b] * blockSize * slotStride + kvh * headDim;
          for (int off = 0; off < inBlock; off++) {
            int kv = slotBase + off * slotStride;
            Fp8E4m3.decode(kCache, kv, headDim, kScale, kRow, 0);
            Fp8E4m3.decode(vCache, kv, headDim, vScale, vRow, 0);
            for (int g = 0; g < group; g++) {
              float s = Dot.dot(q, qBase + g * headDim, kRow, 0, headDim) * scale;
              accumulate(s, g, 0, vRow, headDim, runMax, runSum, acc);
            }
          }
        }
        writeNormalized(acc, runSum, group, headDim, out, qBase);
      }
    }
  }

  /** The arguments both forms check the same way, each refused with one line naming it. */
  private static void checkShapes(float[] q, int n, int qHeads, int kvHeads, int headDim, int blockSize,
      int[][] blockTables, int[] contextLens, float[] out) {
    Checks.nonNegative(n, "n");
    Checks.positive(qHeads, "qHeads");
    Checks.positive(kvHeads, "kvHeads");
    Checks.positive(headDim, "headDim");
    Checks.positive(blockSize, "blockSize");
    if (qHeads % kvHeads != 0) {
      throw new IllegalArgumentException(
          "qHeads (" + qHeads + ") must be a multiple of kvHeads (" + kvHeads + ")");
    }
    Checks.length(q, (long) n * qHeads * headDim, "q");
    Checks.length(out, (long) n * qHeads * headDim, "out");
    Checks.length(contextLens, n, "contextLens");
    if (blockTables == null || blockTables.length < n) {
      throw new IllegalArgumentException(
          "blockTables has " + (blockTables == null ? "null" : blockTables.length)
              + " rows but needs at least " + n);
    }
  }

  /** Query head g's output: its accumulated values over its softmax sum, at {@code out[qBase + g * headDim]}. */
  private static void writeNormalized(float[] acc, float[] runSum, int group, int headDim, float[] out, int qBase) {
    for (int g = 0; g < group; g++) {
      float inv = 1f / runSum[g];
      int o = qBase + g * headDim;
      int a = g * headDim;
      for (int d = 0; d < headDim; d++) {
        out[o + d] = acc[a + d] * inv;
      }
    }
  }

  /** Folds one (score, value row) into query head g's running softmax state. */
  private static void accumulate(
      float s, int g, int kv, float[] vCache, int headDim,
      float[] runMax, float[] runSum, float[] acc) {
    float max = runMax[g];
    int a = g * headDim;
    if (s > max) {
      // New maximum: rescale what was accumulated against the old one (exp(-inf) = 0 the first
      // time), and the new position gets weight exp(0) = 1.
      float c = (float) Math.exp(max - s);
      runMax[g] = s;
      runSum[g] = runSum[g] * c + 1f;
      for (int d = 0; d < headDim; d++) {
        acc[a + d] = acc[a + d] * c + vCache[kv + d];
      }
    } else {
      float e = (float) Math.exp(s - max);
      runSum[g] += e;
      for (int d = 0; d < headDim; d++) {
        acc[a + d] += e * vCache[kv + d];
      }
    }
  }

  private static void checkSequence(
      int t, int ctx, int[] table, int blockSize, long numBlocks) {
    if (ctx < 1) {
      // A decode token always attends at least to itself; 0 would divide by a zero softmax sum.
      throw new IllegalArgumentException("contextLens[" + t + "] must be >= 1 but is " + ctx);
    }
    long needed = ((long) ctx + blockSize - 1) / blockSize;
    if (table == null || table.length < needed) {
      throw new IllegalArgumentException(
          "blockTables[" + t + "] has " + (table == null ? "null" : table.length)
              + " blocks but contextLens[" + t + "] = " + ctx + " needs " + needed);
    }
    for (int b = 0; b < needed; b++) {
      if (table[b] < 0 || table[b] >= numBlocks) {
        throw new IllegalArgumentException(
            "blockTables[" + t + "][" + b + "] = " + table[b] + " is outside the cache's "
                + numBlocks + " blocks");
      }
    }
  }
}
