package io.decodefleet.agent.protocol;

import java.util.List;

/** Everything an agent tells the coordinator. Sent to the reply address given in GpuAgent.Register. */
public interface AgentReport extends ProtocolMessage {

  /** The answer to Register: who this agent is and where it runs. */
  record Registered(String agentId, org.apache.pekko.actor.typed.ActorRef<io.decodefleet.agent.GpuAgent.Command> agent,
      String nodeAddress, String device, String backend) implements AgentReport {}

  /** The model is resident; the capacity the agent offers. */
  record ModelLoaded(String agentId, int kvBlocks, int blockSize, int maxNumSeqs, int maxModelLen, long loadMillis)
      implements AgentReport {}

  record LoadFailed(String agentId, String reason) implements AgentReport {}

  /** One engine step, batched: the token(s) each sequence produced and the sequences that finished. */
  record StepReport(String agentId, long step, List<SequenceTokens> tokens, List<SequenceFinished> finished,
      int freeKvBlocks, int running, int waiting, int scheduledTokens, long stepNanos, int preempted,
      int numSequences, String path, long hostNanos, double gpuMicros, double idleGapMicros)
      implements AgentReport {}

  /** A sequence the agent cannot serve, with why. */
  record SequenceFailed(String agentId, long sequenceId, String reason) implements AgentReport {}

  /** The agent stopped taking work; these sequences were not finished and are handed back. */
  record Drained(String agentId, List<Long> unfinishedSequenceIds) implements AgentReport {}

  /** @param tokens the token ids produced in this step, in order */
  record SequenceTokens(long sequenceId, int[] tokens) {
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

  record SequenceFinished(long sequenceId, String reason, int outputTokens, int preemptions, VerifyResult verify) {}

  /**
   * The recompute check of one sequence.
   *
   * @param checked false when the sequence was not in the verified sample
   * @param maxRelError the largest |cached − recomputed|∞ / |recomputed|∞ over the checked steps
   * @param tolerance the relative tolerance applied (the backend's)
   */
  record VerifyResult(boolean checked, boolean passed, double maxRelError, int stepsChecked, String detail,
      double tolerance) {
    public static final VerifyResult NOT_CHECKED = new VerifyResult(false, true, 0.0, 0, "", 0.0);
  }
}
