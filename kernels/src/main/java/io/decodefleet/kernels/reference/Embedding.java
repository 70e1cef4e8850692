package io.decodefleet.kernels.reference;

/** Token embedding lookup. */
public final class Embedding {

  private Embedding() {}

  /**
   * Copies row {@code tokens[i]} of the embedding table into row {@code i} of {@code out}.
   *
   * @param table (vocab, hidden) float32
   * @param tokens (n) token ids, each in [0, vocab)
   * @param out (n, hidden) float32
   * @throws IllegalArgumentException if an array is too short or a token id is outside the
   * vocabulary
   */
  public static void gather(
      float[] table, // (vocab, hidden) float32
      int vocab,
      int hidden,
      int[] tokens, // (n) int32
      int n,
      float[] out) { // (n, hidden) float32
    Checks.nonNegative(vocab, "vocab");
    Checks.nonNegative(hidden, "hidden");
    Checks.nonNegative(n, "n");
    Checks.length(table, (long) vocab * hidden, "table");
    Checks.length(tokens, n, "tokens");
    Checks.length(out, (long) n * hidden, "out");
    for (int i = 0; i < n; i++) {
      int token = tokens[i];
      // An out-of-range id would otherwise silently read a neighbouring row or a stale one.
      if (token < 0 || token >= vocab) {
        throw new IllegalArgumentException(
            "tokens[" + i + "] = " + token + " is outside the vocabulary [0, " + vocab + ")");
      }
      System.arraycopy(table, token * hidden, out, i * hidden, hidden);
    }
  }
}
