package io.decodefleet.kernels.reference;

import java.util.function.IntUnaryOperator;

/** Softmax attention of one query head written the obvious way, in double. */
final class AttentionOracle {

  private AttentionOracle() {}

  /**
   * Returns softmax_j(scale * q·k_j) · v_j over {@code j < len}, where {@code k_j} and
   * {@code v_j} start at {@code kvOffset(j)} in {@code k} and {@code v}.
   */
  static double[] attend(float[] q, int qOffset, float[] k, float[] v, IntUnaryOperator kvOffset,
      int len, int headDim, double scale) {
    double[] scores = new double[len];
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < len; j++) {
      double s = 0.0;
      for (int d = 0; d < headDim; d++) {
        s += (double) q[qOffset + d] * k[kvOffset.applyAsInt(j) + d];
      }
      scores[j] = s * scale;
      max = Math.max(max, scores[j]);
    }
    double sum = 0.0;
    for (int j = 0; j < len; j++) {
      sum += Math.exp(scores[j] - max);
    }
    double[] out = new double[headDim];
    for (int j = 0; j < len; j++) {
      double weight = Math.exp(scores[j] - max) / sum;
      for (int d = 0; d < headDim; d++) {
        out[d] += weight * v[kvOffset.applyAsInt(j) + d];
      }
    }
    return out;
  }
}
