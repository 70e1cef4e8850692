package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.sampling.SamplingParams;

/**
 * A sequence to decode, as the engine takes it and the wire carries it (StartSequences).
 *
 * @param promptTokens (promptLen) token ids
 * @param maxTokens tokens to generate (generation stops there: benchmark requests ignore EOS)
 * @param prefillOnly run the prompt and sample the first token only, then keep the sequence's KV
 *     pages for a hand-off to another agent (disaggregated prefill/decode)
 * @param sampling how its tokens are picked and when it stops early
 */
public record SequenceSpec(long sequenceId, int[] promptTokens, int maxTokens, boolean prefillOnly,
    SamplingParams sampling) {

  /** A greedy sequence that generates exactly {@code maxTokens} (a benchmark request). */
  public SequenceSpec(long sequenceId, int[] promptTokens, int maxTokens, boolean prefillOnly) {
    this(sequenceId, promptTokens, maxTokens, prefillOnly, SamplingParams.GREEDY);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SequenceSpec s && s.sequenceId == sequenceId && s.maxTokens == maxTokens
        && s.prefillOnly == prefillOnly && java.util.Arrays.equals(s.promptTokens, promptTokens)
        && s.sampling.equals(sampling);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(sequenceId) * 31 + java.util.Arrays.hashCode(promptTokens) + (prefillOnly ? 1 : 0);
  }

  @Override
  public String toString() {
    return "SequenceSpec[" + sequenceId + ", prompt " + promptTokens.length + " tokens, max " + maxTokens
        + (prefillOnly ? ", prefill only" : "") + ", " + sampling + "]";
  }
}
