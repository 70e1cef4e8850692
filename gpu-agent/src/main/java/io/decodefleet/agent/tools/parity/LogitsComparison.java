package io.decodefleet.agent.tools.parity;

/**
 * How two backends' logits rows are compared in the parity checks (CUDA against the CPU reference,
 * a tensor-parallel group against one device): relative L2 error of a row, and whether a differing
 * greedy token is a near tie in the reference's logits.
 */
public final class LogitsComparison {
  private LogitsComparison() {}

  /** ‖a − b‖₂ / ‖b‖₂ over {@code [offset, offset + n)}; NaN if either holds a NaN. */
  public static double relL2(float[] a, float[] b, int offset, int n) {
    double diff = 0;
    double ref = 0;
    for (int i = offset; i < offset + n; i++) {
      double d = (double) a[i] - b[i];
      diff += d * d;
      ref += (double) b[i] * b[i];
    }
    return Math.sqrt(diff) / Math.sqrt(Math.max(ref, Double.MIN_NORMAL));
  }

  /**
   * Whether {@code otherToken} is a near tie of {@code token} in the (n) reference logits at
   * {@code offset}: their logits within {@code tolerance} times the row's largest magnitude.
   */
  public static boolean nearTie(float[] logits, int offset, int n, int token, int otherToken, double tolerance) {
    if (otherToken < 0) {
      return false;
    }
    double maxAbs = 0;
    for (int i = offset; i < offset + n; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(logits[i]));
    }
    return logits[offset + token] - logits[offset + otherToken] <= tolerance * maxAbs;
  }
}
