package io.decodefleet.kernels.cuda;

/**
 * The cos/sin table the RoPE kernel reads: row p holds {@code cos(p * f_i)} for the headDim/2
 * frequencies {@code f_i = theta^(-2i/headDim)} (or Llama 3.1's scaled ones), then {@code sin(p * f_i)}. The angles are
 * computed in double and rounded once, exactly as {@code io.decodefleet.kernels.reference.Rope}
 * computes them, so the only difference between the kernel and the reference is the float32
 * rotation and the bf16 storage.
 */
public final class RopeTable {

  private RopeTable() {}

  /** (positions, headDim) float32. */
  public static float[] cosSin(int positions, int headDim, double theta) {
    ParamChecks.positive(headDim, "headDim");
    ParamChecks.multipleOf(headDim, 2, "headDim");
    return cosSin(positions, headDim, io.decodefleet.kernels.reference.Rope.frequencies(headDim, theta));
  }

  /** (positions, headDim) float32 of the head's {@code headDim/2} frequencies {@code invFreq} (Llama 3.1's too). */
  public static float[] cosSin(int positions, int headDim, double[] invFreq) {
    ParamChecks.positive(positions, "positions");
    ParamChecks.positive(headDim, "headDim");
    ParamChecks.multipleOf(headDim, 2, "headDim");
    int half = headDim / 2;
    if (invFreq.length != half) {
      throw new IllegalArgumentException("invFreq has " + invFreq.length + " frequencies for a head of " + headDim);
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
