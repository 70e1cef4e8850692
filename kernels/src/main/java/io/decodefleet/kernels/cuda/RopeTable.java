package io.decodefleet.kernels.cuda;

/**
 * The cos/sin table the RoPE kernel reads: row p holds {@code cos(p * f_i)} for the headDim/2
 * frequencies {@code f_i = theta^(-2i/headDim)}, then {@code sin(p * f_i)}. The angles are
 * computed in double and rounded once, exactly as {@code io.decodefleet.kernels.reference.Rope}
 * computes them, so the only difference between the kernel and the reference is the float32
 * rotation and the bf16 storage.
 */
public final class RopeTable {

  private RopeTable() {}

  /** (positions, headDim) float32. */
  public static float[] cosSin(int positions, int headDim, double theta) {
    ParamChecks.positive(positions, "positions");
    ParamChecks.positive(headDim, "headDim");
    ParamChecks.multipleOf(headDim, 2, "headDim");
    if (!(theta > 0.0) || Double.isInfinite(theta)) {
      throw new IllegalArgumentException("theta must be finite and > 0 but is " + theta);
    }
    int half = headDim / 2;
    double[] invFreq = new double[half];
    for (int i = 0; i < half; i++) {
      invFreq[i] = Math.pow(theta, -2.0 * i / headDim);
    }
    float[] table = new float[positions * headDim];
    for (int p = 0; p < positions; p++) {
      for (int i = 0; i < half; i++) {
        double angle = p * invFreq[i];
        table[p * headDim + i] = (float) Math.cos(angle);
        table[p * headDim + half + i] = (float) Math.sin(angle);
      }
    }
    return table;
  }
}
