package io.decodefleet.coordinator.generation;

import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.run.ClusterSnapshot;

/**
 * What a request is checked against: the served model's vocabulary, its end-of-sequence ids (from
 * the tokenizer), the max tokens of a request that names none, and the {@link LengthLimit} its prompt
 * and output must fit (the model's context and, once the fleet is loaded, its largest KV pool).
 *
 * @param eosTokenIds ids that end a sequence unless a request ignores EOS
 * @param defaultMaxTokens max tokens when a request gives none (capped by what the length limit leaves)
 */
public record ModelLimits(int vocabSize, int[] eosTokenIds, int defaultMaxTokens, LengthLimit length) {

  public ModelLimits {
    eosTokenIds = eosTokenIds.clone();
    if (defaultMaxTokens < 1) throw new IllegalArgumentException("default max tokens must be >= 1, got " + defaultMaxTokens);
  }

  /**
   * Before the fleet is known: the model's context alone.
   *
   * @param model the model's name as clients give it
   * @param contextTokens prompt + output tokens a sequence may hold (the model's max position embeddings)
   */
  public ModelLimits(String model, int vocabSize, int contextTokens, int[] eosTokenIds, int defaultMaxTokens) {
    this(vocabSize, eosTokenIds, defaultMaxTokens, LengthLimit.context(model, contextTokens));
  }

  /** The same limits on a loaded fleet: a request must also fit the KV pool of its largest agent. */
  public ModelLimits onFleet(ClusterSnapshot fleet) {
    return new ModelLimits(vocabSize, eosTokenIds, defaultMaxTokens, fleet.lengthLimit(length));
  }

  /** The model's name as clients give it. */
  public String model() {
    return length.model();
  }

  /** The model's context in tokens (its max position embeddings). */
  public int contextTokens() {
    return length.contextTokens();
  }

  @Override
  public int[] eosTokenIds() {
    return eosTokenIds.clone();
  }
}
