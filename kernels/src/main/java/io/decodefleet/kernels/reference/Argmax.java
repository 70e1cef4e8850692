package io.decodefleet.kernels.reference;

/** Greedy sampling. */
public final class Argmax {

  private Argmax() {}

  /**
   * Index, relative to {@code offset}, of the largest value in {@code logits[offset, offset +
   * length)}: with {@code offset = row * vocab, length = vocab} it is directly the token id.
   *
   * <p>Ties go to the lowest index, so greedy decoding is deterministic across kernels that agree
   * on the values. NaN never wins (a NaN logit compares false with everything and is skipped); if
   * every value is NaN the result is -1, which {@link Embedding#gather} rejects rather than
   * silently feeding a token back.
   *
   * @param logits (.., vocab) float32
   * @return index in {@code [0, length)}, or -1 if all values are NaN
   */
  public static int argmax(
      float[] logits, // (rows, vocab) float32, or any flat float32 array
      int offset,
      int length) {
    Checks.nonNegative(offset, "offset");
    Checks.positive(length, "length");
    Checks.length(logits, (long) offset + length, "logits");
    int end = offset + length;
    int i = offset;
    // Skip leading NaNs so that the strict '>' below starts from a real value.
    while (i < end && Float.isNaN(logits[i])) {
      i++;
    }
    if (i == end) {
      return -1;
    }
    int best = i;
    float bestValue = logits[i];
    for (i++; i < end; i++) {
      float value = logits[i];
      // Strict '>' keeps the lowest index on ties and is false for NaN.
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    return best - offset;
  }
}
