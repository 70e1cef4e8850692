package io.decodefleet.agent.protocol;

/**
 * A sequence to decode.
 *
 * @param promptTokens (promptLen) token ids
 * @param maxTokens tokens to generate (generation stops there: benchmark requests ignore EOS)
 */
public record SequenceSpec(long sequenceId, int[] promptTokens, int maxTokens) {
  @Override
  public boolean equals(Object o) {
    return o instanceof SequenceSpec s && s.sequenceId == sequenceId && s.maxTokens == maxTokens
        && java.util.Arrays.equals(s.promptTokens, promptTokens);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(sequenceId) * 31 + java.util.Arrays.hashCode(promptTokens);
  }

  @Override
  public String toString() {
    return "SequenceSpec[" + sequenceId + ", prompt " + promptTokens.length + " tokens, max " + maxTokens + "]";
  }
}
