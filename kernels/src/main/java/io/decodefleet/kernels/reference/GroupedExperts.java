package io.decodefleet.kernels.reference;

/**
 * The experts' SwiGLU MLPs over tokens grouped by expert ({@link ExpertPermutation}): for each
 * expert with rows, {@code down(silu(x·gateᵀ) * (x·upᵀ))} over its rows only, one GEMM per expert
 * and projection (the grouped GEMM of a fused MoE kernel). An expert with no rows reads no weight.
 *
 * <p>Each row's output depends on that row and its expert's weights only ({@link Matmul}'s batch
 * invariance), so an expert computed in any grouping (one token at a time, or on another rank) gives
 * bit-identical rows.
 */
public final class GroupedExperts {

  private GroupedExperts() {}

  /**
   * @param x (kept, hidden) float32 in expert order
   * @param offsets (numExperts + 1) expert e's rows of x are {@code [offsets[e], offsets[e + 1])}
   * @param gate per expert (inter, hidden) float32; null for an expert that must have no rows (held
   *     elsewhere)
   * @param up per expert (inter, hidden) float32
   * @param down per expert (hidden, inter) float32
   * @param out (kept, hidden) float32
   */
  public static void forward(
      float[] x, // (kept, hidden) float32
      int[] offsets, // (numExperts + 1)
      float[][] gate, // numExperts x (inter, hidden)
      float[][] up, // numExperts x (inter, hidden)
      float[][] down, // numExperts x (hidden, inter)
      int hidden,
      int inter,
      float[] out) { // (kept, hidden) float32
    forward(x, offsets, gate, up, down, hidden, inter, out, 0, offsets.length - 1);
  }

  /**
   * As above, for experts {@code [fromExpert, toExpert)} only (an expert-parallel rank's): the
   * other experts' rows of {@code out} are left as they are.
   */
  public static void forward(
      float[] x, // (kept, hidden) float32
      int[] offsets, // (numExperts + 1)
      float[][] gate, // numExperts x (inter, hidden)
      float[][] up, // numExperts x (inter, hidden)
      float[][] down, // numExperts x (hidden, inter)
      int hidden,
      int inter,
      float[] out, // (kept, hidden) float32
      int fromExpert,
      int toExpert) {
    int numExperts = offsets.length - 1;
    int kept = offsets[numExperts];
    Checks.length(x, (long) kept * hidden, "x");
    Checks.length(out, (long) kept * hidden, "out");
    if (fromExpert < 0 || toExpert > numExperts || fromExpert > toExpert) {
      throw new IllegalArgumentException("experts [" + fromExpert + ", " + toExpert + ") are not in 0.." + numExperts);
    }
    for (int e = fromExpert; e < toExpert; e++) {
      int rows = offsets[e + 1] - offsets[e];
      if (rows == 0) continue;
      if (gate[e] == null) throw new IllegalArgumentException("expert " + e + " has " + rows + " rows but no weights");
      float[] xe = java.util.Arrays.copyOfRange(x, offsets[e] * hidden, offsets[e + 1] * hidden);
      float[] g = new float[rows * inter]; // (rows, inter)
      float[] u = new float[rows * inter]; // (rows, inter)
      Matmul.matmulTransposed(xe, gate[e], rows, inter, hidden, g);
      Matmul.matmulTransposed(xe, up[e], rows, inter, hidden, u);
      SwiGlu.forward(g, u, rows * inter, g);
      float[] ye = new float[rows * hidden]; // (rows, hidden)
      Matmul.matmulTransposed(g, down[e], rows, hidden, inter, ye);
      System.arraycopy(ye, 0, out, offsets[e] * hidden, ye.length);
    }
  }
}
