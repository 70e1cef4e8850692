package io.decodefleet.agent.engine.kv;

import io.decodefleet.agent.engine.sampling.SamplingParams;

/**
 * The receiving side of a KV transfer: a sequence whose KV arrives from another agent (after its
 * prefill there, or after that agent drained), to be decoded here as if prefilled here.
 *
 * @param promptTokens (promptLen) token ids, as the sending agent had them
 * @param outputTokens (numOutputs) tokens generated so far (the first from the sender)
 * @param maxTokens output tokens in all, {@code outputTokens} included
 * @param numComputedTokens positions whose K/V arrive: every token but the last output
 * @param peer the sender's rank in the KV group
 * @param sampling the sequence's sampling and stop rules, as it started with them
 */
public record IncomingKvTransfer(long sequenceId, int[] promptTokens, int[] outputTokens, int maxTokens,
    int numComputedTokens, int peer, SamplingParams sampling) {

  /** A greedy sequence without stop tokens (a benchmark request). */
  public IncomingKvTransfer(long sequenceId, int[] promptTokens, int[] outputTokens, int maxTokens,
      int numComputedTokens, int peer) {
    this(sequenceId, promptTokens, outputTokens, maxTokens, numComputedTokens, peer, SamplingParams.GREEDY);
  }
}
