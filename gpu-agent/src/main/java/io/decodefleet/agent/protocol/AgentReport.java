package io.decodefleet.agent.protocol;

import io.decodefleet.agent.engine.AllReduceTraffic;
import io.decodefleet.agent.engine.SequenceFinished;
import io.decodefleet.agent.engine.SequenceTokens;
import io.decodefleet.agent.engine.StepProfile;
import io.decodefleet.agent.engine.kv.HeldKv;
import io.decodefleet.agent.engine.kv.KvTransferOutcome;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/** Everything an agent tells the coordinator. Sent to the reply address given in AgentCommand.Register. */
public interface AgentReport extends ProtocolMessage {

  /** The agent that reports. */
  String agentId();

  /**
   * The answer to Register: who this agent is and where it runs.
   *
   * @param tensorParallel how many GPUs the agent's replica spans (1, or K for a tensor- or expert-parallel group)
   * @param parallelism what a group of K > 1 devices splits: heads and columns, or experts
   */
  record Registered(String agentId, ActorRef<AgentCommand> agent, String nodeAddress, String device, String backend,
      int tensorParallel, io.decodefleet.agent.engine.tp.Parallelism parallelism) implements AgentReport {

    /** A tensor-parallel (or single-device) agent. */
    public Registered(String agentId, ActorRef<AgentCommand> agent, String nodeAddress, String device, String backend,
        int tensorParallel) {
      this(agentId, agent, nodeAddress, device, backend, tensorParallel, io.decodefleet.agent.engine.tp.Parallelism.TENSOR);
    }
  }

  /**
   * The model is resident; the capacity the agent offers.
   *
   * @param kvTransferUnsupported why the backend cannot move KV pages between agents; empty when it can
   * @param process the agent's process (random per JVM): agents that share it can form a KV group
   * @param loadReport what loading took and chose, in the backend's words; empty where it says nothing
   */
  record ModelLoaded(String agentId, int kvBlocks, int blockSize, int maxNumSeqs, int maxModelLen, long loadMillis,
      String kvTransferUnsupported, String process, String loadReport) implements AgentReport {}

  record LoadFailed(String agentId, String reason) implements AgentReport {}

  /**
   * One engine step, batched: the token(s) each sequence produced and the sequences that finished;
   * {@code profile} its kernel families' times when it was a profiled step, else null; {@code
   * expertLoad} the tokens each expert of each layer took (a mixture of experts), else null; {@code
   * allReduces} the tensor-parallel all-reduces run since the agent's previous step report.
   */
  record StepReport(String agentId, long step, List<SequenceTokens> tokens, List<SequenceFinished> finished,
      int freeKvBlocks, int running, int waiting, int scheduledTokens, long stepNanos, int preempted,
      int numSequences, String path, long hostNanos, double gpuMicros, double idleGapMicros, StepProfile profile,
      io.decodefleet.agent.engine.ExpertLoad expertLoad, AllReduceTraffic allReduces) implements AgentReport {

    /** A step whose agent ran no all-reduces (a single device). */
    public StepReport(String agentId, long step, List<SequenceTokens> tokens, List<SequenceFinished> finished,
        int freeKvBlocks, int running, int waiting, int scheduledTokens, long stepNanos, int preempted,
        int numSequences, String path, long hostNanos, double gpuMicros, double idleGapMicros, StepProfile profile,
        io.decodefleet.agent.engine.ExpertLoad expertLoad) {
      this(agentId, step, tokens, finished, freeKvBlocks, running, waiting, scheduledTokens, stepNanos, preempted,
          numSequences, path, hostNanos, gpuMicros, idleGapMicros, profile, expertLoad, AllReduceTraffic.NONE);
    }

    /** A step of a dense model. */
    public StepReport(String agentId, long step, List<SequenceTokens> tokens, List<SequenceFinished> finished,
        int freeKvBlocks, int running, int waiting, int scheduledTokens, long stepNanos, int preempted,
        int numSequences, String path, long hostNanos, double gpuMicros, double idleGapMicros, StepProfile profile) {
      this(agentId, step, tokens, finished, freeKvBlocks, running, waiting, scheduledTokens, stepNanos, preempted,
          numSequences, path, hostNanos, gpuMicros, idleGapMicros, profile, null);
    }

    /** A step that was not profiled. */
    public StepReport(String agentId, long step, List<SequenceTokens> tokens, List<SequenceFinished> finished,
        int freeKvBlocks, int running, int waiting, int scheduledTokens, long stepNanos, int preempted,
        int numSequences, String path, long hostNanos, double gpuMicros, double idleGapMicros) {
      this(agentId, step, tokens, finished, freeKvBlocks, running, waiting, scheduledTokens, stepNanos, preempted,
          numSequences, path, hostNanos, gpuMicros, idleGapMicros, null);
    }
  }

  /**
   * What the agent's prefix cache registered and evicted since its last such report (block content
   * hashes, in order), the prompt tokens it looked up and found cached since then, and the sequences
   * it admitted after holding them back for a prefix another sequence was prefilling.
   */
  record PrefixCacheReport(String agentId, List<Long> added, List<Long> evicted, long queriedTokens, long hitTokens,
      long deferredAdmissions) implements AgentReport {
    public PrefixCacheReport {
      added = List.copyOf(added);
      evicted = List.copyOf(evicted);
    }

    public PrefixCacheReport(String agentId, List<Long> added, List<Long> evicted, long queriedTokens,
        long hitTokens) {
      this(agentId, added, evicted, queriedTokens, hitTokens, 0);
    }
  }

  /** A sequence the agent cannot serve, with why. */
  record SequenceFailed(String agentId, long sequenceId, String reason) implements AgentReport {}

  /**
   * The agent stopped taking work. {@code unfinishedSequenceIds} are handed back (to be re-prefilled
   * elsewhere); {@code heldKv} are kept with their KV for a KV transfer, and each must be answered with
   * SendKv (to a peer of the KV group, or a negative rank to release it).
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

  /** A fresh unique id for a KV group (NCCL's 128 opaque bytes), made by this agent. */
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

  /** This agent is member {@code rank} of the KV group; {@code detail} says how. */
  record KvGroupJoined(String agentId, int rank, String detail) implements AgentReport {}

  /** This agent could not join the KV group, or the group broke here. */
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
      KvTransferOutcome outcome, String detail) implements AgentReport {}
}
