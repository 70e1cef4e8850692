package io.decodefleet.kernels.reference;

/**
 * The projection of {@link Matmul} against FP8 e4m3fn weights with a float32 scale per output row
 * (or one for the whole tensor): the CPU reference of fp8_gemm.cu.
 */
public final class Fp8Matmul {

  private Fp8Matmul() {}

  /**
   * {@code out[i, j] = scale(j) * sum_k x[i, k] * e4m3(w[j, k])}: each weight row decoded exactly,
   * dotted with x's rows in {@link Dot#dot}'s order, then scaled, as the kernel scales its float32 sum
   * at the end. With a power-of-two scale this equals {@link Matmul#matmulTransposed} over the
   * dequantized weights bit for bit.
   *
   * @param x (m, k) float32
   * @param w (n, k) e4m3 codes: (out_features, in_features)
   * @param scales (n) per output row, or (1) for the whole tensor
   * @param out (m, n) float32
   */
  public static void matmulTransposed(
      float[] x, // (m, k) float32
      byte[] w, // (n, k) e4m3
      float[] scales, // (n) or (1) float32
      int m,
      int n,
      int k,
      float[] out) { // (m, n) float32
    Checks.nonNegative(m, "m");
    Checks.nonNegative(n, "n");
    Checks.nonNegative(k, "k");
    Checks.length(x, (long) m * k, "x");
    if (w.length != (long) n * k) {
      throw new IllegalArgumentException("w has " + w.length + " codes but needs " + (long) n * k);
    }
    if (scales.length != 1 && scales.length != n) {
      throw new IllegalArgumentException("scales has " + scales.length + " values: 1 or n (" + n + ") are needed");
    }
    Checks.length(out, (long) m * n, "out");
    int block = Math.max(1, 64 * 1024 / Math.max(1, k));
    ColumnBlocks.forEach(n, block, ColumnBlocks.worthThreads(m, n, k), (j0, j1) -> {
      float[] row = new float[k];
      for (int j = j0; j < j1; j++) {
        Fp8E4m3.decode(w, j * k, k, 1f, row, 0);
        float s = scales[scales.length == 1 ? 0 : j];
        for (int i = 0; i < m; i++) {
          out[i * n + j] = Dot.dot(x, i * k, row, 0, k) * s;
        }
      }
    });
  }
}
