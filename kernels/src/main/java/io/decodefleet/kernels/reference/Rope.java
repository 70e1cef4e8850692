package io.decodefleet.kernels.reference;

/** Rotary position embedding (RoPE), Hugging Face Llama "rotate_half" convention. */
public final class Rope {

  private Rope() {}

  /**
   * Rotates, in place, each head of each token by its position.
   *
   * <p>Within a head, element {@code i} is paired with element {@code i + headDim/2} (not with its
   * neighbour {@code i + 1}: that would be the interleaved GPT-J/Meta convention, which needs
   * permuted q/k weights). With {@code angle = position * theta^(-2i/headDim)}:
   * {@code x' = x cos - y sin}, {@code y' = x sin + y cos}.
   *
   * <p>Angles, cosines, sines and the rotation are computed in double and rounded once: in float32
   * the angle of position 100 000 would already be off by several milliradians.
   *
   * @param x (n, heads, headDim) float32, rotated in place
   * @param positions (n) position of each token in its sequence
   * @param theta the RoPE base, e.g. 10000 or 500000
   */
  public static void apply(
      float[] x, // (n, heads, headDim) float32, in/out
      int n,
      int heads,
      int headDim,
      int[] positions, // (n) int32
      double theta) {
    apply(x, n, heads, headDim, positions, frequencies(headDim, theta));
  }

  /** The plain RoPE frequencies of a head: {@code theta^(-2i/headDim)} for i in [0, headDim/2), in double. */
  public static double[] frequencies(int headDim, double theta) {
    Checks.positive(headDim, "headDim");
    if ((headDim & 1) != 0) {
      throw new IllegalArgumentException("headDim must be even but is " + headDim);
    }
    if (!(theta > 0.0) || Double.isInfinite(theta)) {
      throw new IllegalArgumentException("theta must be finite and > 0 but is " + theta);
    }
    double[] invFreq = new double[headDim / 2];
    for (int i = 0; i < invFreq.length; i++) {
      invFreq[i] = Math.pow(theta, -2.0 * i / headDim);
    }
    return invFreq;
  }

  /**
   * Llama 3.1's frequencies ({@code rope_scaling} of {@code rope_type} "llama3"): each plain frequency
   * whose wavelength {@code 2 pi / f} is longer than {@code originalMaxPositions / lowFreqFactor} is
   * divided by {@code factor}, one shorter than {@code originalMaxPositions / highFreqFactor} is kept,
   * and those between are blended, {@code (1 - s) f / factor + s f} with {@code s =
   * (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor)}: the rule
   * of Meta's reference code and Hugging Face's {@code _compute_llama3_parameters}, here in double.
   */
  public static double[] llama3Frequencies(int headDim, double theta, double factor, double lowFreqFactor,
      double highFreqFactor, int originalMaxPositions) {
    double[] f = frequencies(headDim, theta);
    double lowWavelength = originalMaxPositions / lowFreqFactor;
    double highWavelength = originalMaxPositions / highFreqFactor;
    for (int i = 0; i < f.length; i++) {
      double wavelength = 2 * Math.PI / f[i];
      if (wavelength > lowWavelength) {
        f[i] = f[i] / factor;
      } else if (wavelength >= highWavelength) {
        double s = (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        f[i] = (1 - s) * f[i] / factor + s * f[i];
      }
    }
    return f;
  }

  /**
   * As {@link #apply(float[], int, int, int, int[], double)} with the head's {@code headDim/2}
   * frequencies given ({@link #frequencies}, {@link #llama3Frequencies}).
   */
  public static void apply(
      float[] x, // (n, heads, headDim) float32, in/out
      int n,
      int heads,
      int headDim,
      int[] positions, // (n) int32
      double[] invFreq) { // (headDim / 2)
    Checks.nonNegative(n, "n");
    Checks.nonNegative(heads, "heads");
    Checks.positive(headDim, "headDim");
    if ((headDim & 1) != 0) {
      throw new IllegalArgumentException("headDim must be even but is " + headDim);
    }
    Checks.length(x, (long) n * heads * headDim, "x");
    Checks.length(positions, n, "positions");
    int half = headDim / 2;
    if (invFreq.length != half) {
      throw new IllegalArgumentException("invFreq has " + invFreq.length + " frequencies for a head of " + headDim);
    }
    // The angles depend only on the token, so compute them once and reuse them for every head.
    double[] cos = new double[half];
    double[] sin = new double[half];
    int tokenStride = heads * headDim;
    for (int t = 0; t < n; t++) {
      double position = positions[t];
      for (int i = 0; i < half; i++) {
        double angle = position * invFreq[i];
        cos[i] = Math.cos(angle);
        sin[i] = Math.sin(angle);
      }
      int tokenBase = t * tokenStride;
      for (int h = 0; h < heads; h++) {
        int lo = tokenBase + h * headDim;
        int hi = lo + half;
        for (int i = 0; i < half; i++) {
          double a = x[lo + i];
          double b = x[hi + i];
          x[lo + i] = (float) (a * cos[i] - b * sin[i]);
          x[hi + i] = (float) (a * sin[i] + b * cos[i]);
        }
      }
    }
  }
}
