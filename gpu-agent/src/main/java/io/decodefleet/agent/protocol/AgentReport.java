package io.decodefleet.agent.protocol;

import java.util.List;

/** Everything an agent tells the coordinator. Sent to the reply address given in GpuAgent.Register. */
public interface AgentReport extends ProtocolMessage {

  /** The agent that reports. */
  String agentId();

  /**
   * The answer to Register: who this agent is and where it runs.
   *
   * @param tensorParallel how many GPUs the agent's replica spans (1, or K for a tensor-parallel group)
   */
  record Registered(String agentId, org.apache.pekko.actor.typed.ActorRef<io.decodefleet.agent.GpuAgent.Command> agent,
      String nodeAddress, String device, String backend, int tensorParallel) implements AgentReport {
    public Registered(String agentId, org.apache.pekko.actor.typed.ActorRef<io.decodefleet.agent.GpuAgent.Command>
        agent, String nodeAddress, String device, String backend) {
      this(agentId, agent, nodeAddress, device, backend, 1);
    }
  }

  /**
   * The model is resident; the capacity the agent offers.
   *
   * @param kvTransferUnsupported why the backend cannot move KV pages between agents; empty when it can
   * @param process the agent's process (random per JVM): agents that share it can form a KV group
   */
  record ModelLoaded(String agentId, int kvBlocks, int blockSize, int maxNumSeqs, int maxModelLen, long loadMillis,
      String kvTransferUnsupported, String process) implements AgentReport {
    /** An agent that says nothing of KV transfer: taken as unable to. */
    public ModelLoaded(String agentId, int kvBlocks, int blockSize, int maxNumSeqs, int maxModelLen, long loadMillis) {
      this(agentId, kvBlocks, blockSize, maxNumSeqs, maxModelLen, loadMillis, "not reported", "");
    }
  }

  record LoadFailed(String agentId, String reason) implements AgentReport {}

  /** One engine step, batched: the token(s) each sequence produced and the sequences that finished. */
  record StepReport(String agentId, long step, List<SequenceTokens> tokens, List<SequenceFinished> finished,
      int freeKvBlocks, int running, int waiting, int scheduledTokens, long stepNanos, int preempted,
      int numSequences, String path, long hostNanos, double gpuMicros, double idleGapMicros)
      implements AgentReport {}

  /** A sequence the agent cannot serve, with why. */
  record SequenceFailed(String agentId, long sequenceId, String reason) implements AgentReport {}

  /**
   * The agent stopped taking work. {@code unfinishedSequenceIds} are handed back (to be re-prefilled
   * elsewhere); {@code heldKv} are kept with their KV for a move, and each must be answered with
   * SendKv (to a peer of the KV-transfer group, or a negative rank to release it).
   */
  record Drained(String agentId, List<Long> unfinishedSequenceIds, List<HeldKv> heldKv) implements AgentReport {
    public Drained {
      unfinishedSequenceIds = List.copyOf(unfinishedSequenceIds);
      heldKv = List.copyOf(heldKv);
    }

    /** Nothing held: every unfinished sequence is handed back. */
    public Drained(String agentId, List<Long> unfinishedSequenceIds) {
      this(agentId, unfinishedSequenceIds, List.of());
    }
  }

  /**
   * A drained sequence whose KV the agent holds: its first {@code numComputedTokens} positions,
   * every token so far but the last sampled one (whose K/V the next agent computes).
   */
  record HeldKv(long sequenceId, int numComputedTokens) {}

  /** A fresh unique id for a KV-transfer group (NCCL's 128 opaque bytes), made by this agent. */
  record KvGroupId(String agentId, byte[] id) implements AgentReport {
    @Override
    public boolean equals(Object o) {
      return o instanceof KvGroupId k && k.agentId.equals(agentId) && java.util.Arrays.equals(k.id, id);
    }

    @Override
    public int hashCode() {
      return agentId.hashCode() * 31 + java.util.Arrays.hashCode(id);
    }

    @Override
    public String toString() {
      return "KvGroupId[" + agentId + ", " + (id == null ? 0 : id.length) + " bytes]";
    }
  }

  /** This agent is member {@code rank} of the KV-transfer group; {@code detail} says how. */
  record KvGroupJoined(String agentId, int rank, String detail) implements AgentReport {}

  /** This agent could not join the KV-transfer group, or the group broke here. */
  record KvGroupFailed(String agentId, String reason) implements AgentReport {}

  /**
   * A sequence's KV is ready to move: the K/V of its first {@code numComputedTokens} positions
   * (a prefill-only sequence after its first token). Sent after the step report with that token.
   */
  record KvReady(String agentId, long sequenceId, int numComputedTokens) implements AgentReport {}

  /**
   * One side of a KV transfer is over.
   *
   * @param sender true on the agent that packed and sent, false on the one that received
   * @param bytes the bytes that crossed
   * @param deviceMillis device time of this side (events around pack+send or recv+unpack); it
   *     includes waiting when this side posted first; NaN when the transfer failed
   * @param detail why, for RECOMPUTE, DISCARDED and FAILED
   */
  record KvTransferred(String agentId, long sequenceId, boolean sender, long bytes, double deviceMillis,
      Outcome outcome, String detail) implements AgentReport {

    public enum Outcome {
      /** Moved; on the receiver the sequence decodes from the received KV. */
      DONE,
      /** The receiver had no free KV blocks: the data was discarded and the sequence re-prefills there. */
      RECOMPUTE,
      /** Moved or released, but the sequence is no longer served here (drained, or told to drop it). */
      DISCARDED,
      /** The transfer failed; the group is unusable. */
      FAILED
    }
  }

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
