package io.decodefleet.agent.engine;

import io.decodefleet.kernels.reference.Argmax;

/** Greedy sampling: the arg-max token, ties to the lowest id (deterministic across runs and backends). */
public final class Sampler {
  private final int vocabSize;

  public Sampler(int vocabSize) {
    this.vocabSize = vocabSize;
  }

  /** @param logits (numRows, vocab) float32 */
  public int sample(float[] logits, int row) {
    return Argmax.argmax(logits, row * vocabSize, vocabSize);
  }

  /**
   * Whether {@code otherToken} is a near tie of {@code token} in the (n) logits at {@code offset}:
   * their logits within {@code tolerance} times the row's largest magnitude.
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
