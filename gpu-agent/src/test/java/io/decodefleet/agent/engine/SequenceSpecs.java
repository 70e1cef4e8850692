package io.decodefleet.agent.engine;

/** Sequences as tests submit them. */
public final class SequenceSpecs {
  private SequenceSpecs() {}

  /** A sequence the agent decodes to the end (not prefill-only). */
  public static SequenceSpec decodeToEnd(long sequenceId, int[] promptTokens, int maxTokens) {
    return new SequenceSpec(sequenceId, promptTokens, maxTokens, false);
  }
}
