package io.decodefleet.kernels.reference;

/** Dense projection against a weight stored in the Hugging Face {@code Linear} layout. */
public final class Matmul {

  /**
   * How many floats of {@code w} one column block may hold (256 KiB): small enough to stay in a
   * per-core L2 cache while every row of {@code x} streams past it, so a batch reads the weight
   * from memory once instead of once per row.
   */
  private static final int W_BLOCK_FLOATS = 64 * 1024;

  private Matmul() {}

  /**
   * {@code out = x · wᵀ}, i.e. {@code out[i, j] = sum_k x[i, k] * w[j, k]}.
   *
   * <p><b>Batch-invariance guarantee.</b> Each output element is the float32 dot product of one row
   * of {@code x} with one row of {@code w}, accumulated in an order that depends only on {@code k}
   * (eight interleaved partial sums over {@code p % 8}, combined pairwise, then the tail of {@code
   * k % 8} terms in order, exactly as {@code Dot.dot}). It does not depend on {@code m}, {@code n},
   * the position of the row in the batch, the cache blocking or which columns are computed
   * together, so a row of {@code x} gives bit-identical outputs whether it is multiplied alone
   * ({@code m = 1}) or inside any batch. The engine relies on this to compare batched decode
   * against single-sequence decode exactly. For the same reason a large weight's column blocks may
   * run on several threads ({@link ColumnBlocks}): the result is the same bit for bit.
   *
   * @param x (m, k) float32, row-major
   * @param w (n, k) float32, row-major: (out_features, in_features)
   * @param out (m, n) float32, row-major; must not alias {@code x} or {@code w}
   */
  public static void matmulTransposed(
      float[] x, // (m, k) float32
      float[] w, // (n, k) float32
      int m,
      int n,
      int k,
      float[] out) { // (m, n) float32
    Checks.nonNegative(m, "m");
    Checks.nonNegative(n, "n");
    Checks.nonNegative(k, "k");
    Checks.length(x, (long) m * k, "x");
    Checks.length(w, (long) n * k, "w");
    Checks.length(out, (long) m * n, "out");
    // Even, so that column pairs never straddle two blocks.
    int block = Math.max(2, (W_BLOCK_FLOATS / Math.max(1, k)) & ~1);
    ColumnBlocks.forEach(n, block, ColumnBlocks.worthThreads(m, n, k), (j0, j1) -> {
      for (int i = 0; i < m; i++) {
        int xOff = i * k;
        int outRow = i * n;
        int j = j0;
        for (; j + 1 < j1; j += 2) {
          dotPair(x, xOff, w, j * k, k, out, outRow + j);
        }
        if (j < j1) {
          out[outRow + j] = Dot.dot(x, xOff, w, j * k, k);
        }
      }
    });
  }

  /**
   * {@code out[o] = dot(x row, w row j)} and {@code out[o + 1] = dot(x row, w row j + 1)}: each x
   * element loaded feeds two products, which is worth about 1.5x when the weight streams from
   * memory. Each of the two sums reproduces {@code Dot.dot}'s accumulation order exactly (the
   * batch-invariance guarantee depends on it, and the tests check it bit for bit).
   */
  private static void dotPair(
      float[] x, int xOff, float[] w, int wOff, int k, float[] out, int o) {
    int vOff = wOff + k;
    float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
    float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f, t4 = 0f, t5 = 0f, t6 = 0f, t7 = 0f;
    int p = 0;
    for (; p + 7 < k; p += 8) {
      int i = xOff + p;
      int a = wOff + p;
      int b = vOff + p;
      float x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
      float x4 = x[i + 4], x5 = x[i + 5], x6 = x[i + 6], x7 = x[i + 7];
      s0 += x0 * w[a];
      s1 += x1 * w[a + 1];
      s2 += x2 * w[a + 2];
      s3 += x3 * w[a + 3];
      s4 += x4 * w[a + 4];
      s5 += x5 * w[a + 5];
      s6 += x6 * w[a + 6];
      s7 += x7 * w[a + 7];
      t0 += x0 * w[b];
      t1 += x1 * w[b + 1];
      t2 += x2 * w[b + 2];
      t3 += x3 * w[b + 3];
      t4 += x4 * w[b + 4];
      t5 += x5 * w[b + 5];
      t6 += x6 * w[b + 6];
      t7 += x7 * w[b + 7];
    }
    float s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    float t = ((t0 + t1) + (t2 + t3)) + ((t4 + t5) + (t6 + t7));
    for (; p < k; p++) {
      float xp = x[xOff + p];
      s += xp * w[wOff + p];
      t += xp * w[vOff + p];
    }
    out[o] = s;
    out[o + 1] = t;
  }
}
