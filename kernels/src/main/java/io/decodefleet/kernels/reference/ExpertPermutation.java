package io.decodefleet.kernels.reference;

/**
 * Tokens grouped by expert for the grouped expert GEMMs, and back: the permutation of a mixture of
 * experts' dispatch, with an optional capacity per expert (GShard, Switch Transformer).
 *
 * <p>Order: expert by expert (ascending id); within an expert, its (token, slot) pairs by ascending
 * token, which is the batch's row order. With a capacity C, an expert keeps its first C pairs in
 * that order and drops the rest: a dropped pair adds nothing to its token's output (the token keeps
 * its residual and its other experts' outputs, with their weights unchanged), and is counted.
 *
 * @param numExperts experts of the layer
 * @param offsets (numExperts + 1) expert e's rows are {@code [offsets[e], offsets[e + 1])}
 * @param tokenOf (kept) the token of each permuted row
 * @param rowOf (tokens, k) the permuted row of each (token, slot), or -1 where it was dropped
 * @param dropped (numExperts) pairs each expert dropped over its capacity
 */
public record ExpertPermutation(int numExperts, int[] offsets, int[] tokenOf, int[] rowOf, int[] dropped) {

  /** No capacity: every expert takes every token routed to it (plain top-k). */
  public static final int UNBOUNDED = Integer.MAX_VALUE;

  /** Rows kept over all experts. */
  public int kept() {
    return offsets[numExperts];
  }

  /** Tokens expert {@code e} takes. */
  public int count(int e) {
    return offsets[e + 1] - offsets[e];
  }

  /**
   * GShard's expert capacity: {@code ceil(factor * tokens * k / numExperts)} (pairs per expert), at
   * least 1; the factor's slack over a perfectly even load.
   */
  public static int capacity(double factor, int tokens, int k, int numExperts) {
    if (!(factor > 0) || !Double.isFinite(factor)) {
      throw new IllegalArgumentException("capacity factor must be finite and > 0 but is " + factor);
    }
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.ceil(factor * tokens * k / numExperts)));
  }

  /**
   * Groups the (token, slot) pairs of {@code experts} (tokens, k) by expert.
   *
   * @param capacity pairs each expert keeps at most ({@link #UNBOUNDED}: all)
   */
  public static ExpertPermutation of(int[] experts, int tokens, int k, int numExperts, int capacity) {
    Checks.length(experts, (long) tokens * k, "experts");
    Checks.positive(capacity, "capacity");
    int[] routed = new int[numExperts];
    for (int i = 0; i < tokens * k; i++) {
      int e = experts[i];
      if (e < 0 || e >= numExperts) throw new IllegalArgumentException("expert " + e + " is not in 0.." + numExperts);
      routed[e]++;
    }
    int[] offsets = new int[numExperts + 1];
    int[] dropped = new int[numExperts];
    for (int e = 0; e < numExperts; e++) {
      int keep = Math.min(routed[e], capacity);
      dropped[e] = routed[e] - keep;
      offsets[e + 1] = offsets[e] + keep;
    }
    int[] tokenOf = new int[offsets[numExperts]];
    int[] rowOf = new int[tokens * k];
    int[] next = java.util.Arrays.copyOf(offsets, numExperts);
    for (int t = 0; t < tokens; t++) {
      for (int j = 0; j < k; j++) {
        int e = experts[t * k + j];
        if (next[e] < offsets[e + 1]) {
          rowOf[t * k + j] = next[e];
          tokenOf[next[e]++] = t;
        } else {
          rowOf[t * k + j] = -1;
        }
      }
    }
    return new ExpertPermutation(numExperts, offsets, tokenOf, rowOf, dropped);
  }

  /** {@code out[row] = x[tokenOf[row]]}: the hidden states in expert order. */
  public void permute(
      float[] x, // (tokens, hidden) float32
      int hidden,
      float[] out) { // (kept, hidden) float32
    Checks.length(out, (long) kept() * hidden, "out");
    for (int row = 0; row < kept(); row++) System.arraycopy(x, tokenOf[row] * hidden, out, row * hidden, hidden);
  }

  /**
   * The weighted combine: {@code out[t] = sum_j weights[t, j] * y[rowOf[t, j]]}, summed in slot
   * order from zero, dropped pairs skipped. A token whose pairs were all dropped gets zeros.
   *
   * @param y (rows, hidden) float32: the experts' outputs, row r of (token, slot) at {@code rowOf}
   * @param rowOf (tokens, k) the row of each (token, slot) in {@code y}, -1 where dropped
   * @param weights (tokens, k) the router's weights
   */
  public static void combine(
      float[] y, // (rows, hidden) float32
      int[] rowOf, // (tokens, k)
      float[] weights, // (tokens, k) float32
      int tokens,
      int k,
      int hidden,
      float[] out) { // (tokens, hidden) float32
    Checks.length(out, (long) tokens * hidden, "out");
    for (int t = 0; t < tokens; t++) {
      int o = t * hidden;
      java.util.Arrays.fill(out, o, o + hidden, 0f);
      for (int j = 0; j < k; j++) {
        int row = rowOf[t * k + j];
        if (row < 0) continue;
        float w = weights[t * k + j];
        int yo = row * hidden;
        for (int c = 0; c < hidden; c++) out[o + c] += w * y[yo + c];
      }
    }
  }
}
