package io.decodefleet.agent.engine;

/**
 * @param maxNumSeqs the most sequences running at once (continuous-batching cap)
 * @param maxBatchedTokens the token budget of one step: decodes take one each, prefill chunks the rest
 * @param maxModelLen the longest prompt + output a sequence may have
 */
public record SchedulerConfig(int maxNumSeqs, int maxBatchedTokens, int maxModelLen) {
  public SchedulerConfig {
    if (maxNumSeqs < 1) throw new IllegalArgumentException("max num seqs must be >= 1, got " + maxNumSeqs);
    if (maxBatchedTokens < 1) throw new IllegalArgumentException("max batched tokens must be >= 1, got " + maxBatchedTokens);
    if (maxModelLen < 2) throw new IllegalArgumentException("max model len must be >= 2, got " + maxModelLen);
  }
}
