package io.decodefleet.kernels.reference;

/** Root-mean-square layer normalisation, plain and fused with the residual add. */
public final class RmsNorm {

  private RmsNorm() {}

  /**
   * {@code out[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * weight}.
   *
   * <p>{@code out} may be the same array as {@code x}: each row is read completely before it is
   * written.
   *
   * @param x (rows, hidden) float32
   * @param weight (hidden) float32
   * @param out (rows, hidden) float32
   */
  public static void forward(
      float[] x, // (rows, hidden) float32
      float[] weight, // (hidden) float32
      float eps,
      int rows,
      int hidden,
      float[] out) { // (rows, hidden) float32
    checkShapes(x, "x", weight, rows, hidden, out);
    for (int r = 0; r < rows; r++) {
      int base = r * hidden;
      scaleRow(x, base, weight, inverseRms(x, base, hidden, eps), hidden, out);
    }
  }

  /**
   * {@code residual[r, :] += x[r, :]}, then {@code out[r, :] = rmsnorm(residual[r, :])}.
   *
   * <p>The residual stream is updated in place because the next layer adds to it again; fusing the
   * add with the norm saves one pass over the row, as the GPU kernel does. {@code out} may alias
   * {@code x} (each row of {@code x} is consumed before that row of {@code out} is written).
   *
   * @param x (rows, hidden) float32, the sub-layer output to add
   * @param residual (rows, hidden) float32, updated in place
   * @param weight (hidden) float32
   * @param out (rows, hidden) float32
   */
  public static void addResidualAndNorm(
      float[] x, // (rows, hidden) float32
      float[] residual, // (rows, hidden) float32, in/out
      float[] weight, // (hidden) float32
      float eps,
      int rows,
      int hidden,
      float[] out) { // (rows, hidden) float32
    checkShapes(x, "x", weight, rows, hidden, out);
    Checks.length(residual, (long) rows * hidden, "residual");
    for (int r = 0; r < rows; r++) {
      int base = r * hidden;
      int end = base + hidden;
      // Two double accumulators: double so that large activations cannot overflow the sum of
      // squares and long rows lose no precision; two so the adds do not form one dependency chain.
      double s0 = 0.0;
      double s1 = 0.0;
      int i = base;
      for (; i + 1 < end; i += 2) {
        float a = residual[i] + x[i];
        float b = residual[i + 1] + x[i + 1];
        residual[i] = a;
        residual[i + 1] = b;
        s0 += (double) a * a;
        s1 += (double) b * b;
      }
      if (i < end) {
        float a = residual[i] + x[i];
        residual[i] = a;
        s0 += (double) a * a;
      }
      float inv = (float) (1.0 / Math.sqrt((s0 + s1) / hidden + eps));
      scaleRow(residual, base, weight, inv, hidden, out);
    }
  }

  private static void checkShapes(
      float[] x, String xName, float[] weight, int rows, int hidden, float[] out) {
    Checks.nonNegative(rows, "rows");
    Checks.positive(hidden, "hidden");
    Checks.length(x, (long) rows * hidden, xName);
    Checks.length(weight, hidden, "weight");
    Checks.length(out, (long) rows * hidden, "out");
  }

  private static float inverseRms(float[] x, int base, int hidden, float eps) {
    // See addResidualAndNorm for why the mean of squares is accumulated in two doubles.
    double s0 = 0.0;
    double s1 = 0.0;
    int end = base + hidden;
    int i = base;
    for (; i + 1 < end; i += 2) {
      double a = x[i];
      double b = x[i + 1];
      s0 += a * a;
      s1 += b * b;
    }
    if (i < end) {
      double a = x[i];
      s0 += a * a;
    }
    return (float) (1.0 / Math.sqrt((s0 + s1) / hidden + eps));
  }

  private static void scaleRow(
      float[] src, int base, float[] weight, float inv, int hidden, float[] out) {
    // Normalise first, then apply the weight, in the same order as Hugging Face's LlamaRMSNorm,
    // so float32 results round the same way.
    for (int i = 0; i < hidden; i++) {
      out[base + i] = (src[base + i] * inv) * weight[i];
    }
  }
}
