package io.decodefleet.kernels.reference;

/** Dense causal grouped-query attention without a cache: the recompute oracle. */
public final class CausalAttention {

  private CausalAttention() {}

  /**
   * Treats the {@code n} tokens as one sequence at positions {@code 0..n-1}: token {@code i}, query
   * head {@code h}, attends to tokens {@code 0..i} through kv head {@code h / (qHeads / kvHeads)}.
   *
   * <p>This is deliberately a different algorithm from {@link PagedAttention}: all scores first,
   * then an exact max-subtracted softmax, so that agreement between the two checks the paging and
   * the online softmax rather than reproducing the same code twice.
   *
   * @param q (n, qHeads, headDim) float32
   * @param k (n, kvHeads, headDim) float32
   * @param v (n, kvHeads, headDim) float32
   * @param out (n, qHeads, headDim) float32; must not alias {@code k} or {@code v}
   */
  public static void forward(
      float[] q, // (n, qHeads, headDim) float32
      float[] k, // (n, kvHeads, headDim) float32
      float[] v, // (n, kvHeads, headDim) float32
      int n,
      int qHeads,
      int kvHeads,
      int headDim,
      float scale,
      float[] out) { // (n, qHeads, headDim) float32
    Checks.nonNegative(n, "n");
    Checks.positive(qHeads, "qHeads");
    Checks.positive(kvHeads, "kvHeads");
    Checks.positive(headDim, "headDim");
    if (qHeads % kvHeads != 0) {
      throw new IllegalArgumentException(
          "qHeads (" + qHeads + ") must be a multiple of kvHeads (" + kvHeads + ")");
    }
    Checks.length(q, (long) n * qHeads * headDim, "q");
    Checks.length(k, (long) n * kvHeads * headDim, "k");
    Checks.length(v, (long) n * kvHeads * headDim, "v");
    Checks.length(out, (long) n * qHeads * headDim, "out");
    int group = qHeads / kvHeads;
    int kvStride = kvHeads * headDim;
    float[] scores = new float[n];
    for (int i = 0; i < n; i++) {
      for (int h = 0; h < qHeads; h++) {
        int qOff = (i * qHeads + h) * headDim;
        int kvHead = (h / group) * headDim;
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j <= i; j++) {
          float s = Dot.dot(q, qOff, k, j * kvStride + kvHead, headDim) * scale;
          scores[j] = s;
          max = Math.max(max, s);
        }
        // q is fully consumed above, so writing into out from here on is safe even if out == q.
        for (int d = 0; d < headDim; d++) {
          out[qOff + d] = 0f;
        }
        float sum = 0f;
        for (int j = 0; j <= i; j++) {
          float e = (float) Math.exp(scores[j] - max);
          sum += e;
          int vOff = j * kvStride + kvHead;
          for (int d = 0; d < headDim; d++) {
            out[qOff + d] += e * v[vOff + d];
          }
        }
        float inv = 1f / sum;
        for (int d = 0; d < headDim; d++) {
          out[qOff + d] *= inv;
        }
      }
    }
  }
}
