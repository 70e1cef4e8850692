package io.decodefleet.agent.engine;

/** @param tokens the token ids a sequence produced in one step, in order */
public record SequenceTokens(long sequenceId, int[] tokens) {
  @Override
  public boolean equals(Object o) {
    return o instanceof SequenceTokens t && t.sequenceId == sequenceId && java.util.Arrays.equals(t.tokens, tokens);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(sequenceId) * 31 + java.util.Arrays.hashCode(tokens);
  }

  @Override
  public String toString() {
    return "SequenceTokens[" + sequenceId + ", " + java.util.Arrays.toString(tokens) + "]";
  }
}
