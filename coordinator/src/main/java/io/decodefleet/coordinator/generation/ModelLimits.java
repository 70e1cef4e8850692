package io.decodefleet.coordinator.generation;

/**
 * What a request is checked against: the served model's vocabulary and context, its end-of-sequence
 * ids (from the tokenizer), and the max tokens of a request that names none.
 *
 * @param contextTokens prompt + output tokens a sequence may hold (the model's max position embeddings)
 * @param eosTokenIds ids that end a sequence unless a request ignores EOS
 * @param defaultMaxTokens max tokens when a request gives none (capped by what the context leaves)
 */
public record ModelLimits(String model, int vocabSize, int contextTokens, int[] eosTokenIds, int defaultMaxTokens) {

  public ModelLimits {
    eosTokenIds = eosTokenIds.clone();
    if (defaultMaxTokens < 1) throw new IllegalArgumentException("default max tokens must be >= 1, got " + defaultMaxTokens);
  }

  @Override
  public int[] eosTokenIds() {
    return eosTokenIds.clone();
  }
}
