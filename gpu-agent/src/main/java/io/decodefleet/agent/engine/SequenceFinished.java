package io.decodefleet.agent.engine;

/**
 * A sequence that produced its last token in a step.
 *
 * @param reason why it stopped: "length" (it reached its maximum number of tokens, or the model's
 *     context) or "stop" (it sampled one of its stop tokens)
 * @param verify its recompute check
 */
public record SequenceFinished(long sequenceId, String reason, int outputTokens, int preemptions,
    VerifyResult verify) {}
