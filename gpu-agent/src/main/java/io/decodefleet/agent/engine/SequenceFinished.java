package io.decodefleet.agent.engine;

/**
 * A sequence that produced its last token in a step.
 *
 * @param reason why it stopped: "length" (it reached its maximum number of tokens, or the model's
 *     context) or "stop" (it sampled one of its stop tokens)
 * @param verify its recompute check
 * @param queueNanos how long it waited in this engine's queue, from its submission to its first
 *     scheduled step (vLLM's queue time), on the engine's clock; -1 where not measured (a sequence
 *     whose KV arrived from another agent)
 * @param prefillNanos from the start of its first scheduled step to the end of the step that
 *     produced its first token (vLLM's prefill time), on the engine's clock; -1 where not measured
 */
public record SequenceFinished(long sequenceId, String reason, int outputTokens, int preemptions,
    VerifyResult verify, long queueNanos, long prefillNanos) {

  /** Queue and prefill times not measured. */
  public SequenceFinished(long sequenceId, String reason, int outputTokens, int preemptions, VerifyResult verify) {
    this(sequenceId, reason, outputTokens, preemptions, verify, -1, -1);
  }
}
