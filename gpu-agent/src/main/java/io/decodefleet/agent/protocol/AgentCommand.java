package io.decodefleet.agent.protocol;

import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.agent.engine.SequenceSpec;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Everything an agent is told, as the protocol of the GpuAgent actor: the commands the
 * coordinator sends across the wire (each a {@link ProtocolMessage}), and the supertype of the
 * agent's local and internal messages. Answers go to {@link AgentReport}.
 */
public interface AgentCommand {

  /** Every agent of the cluster, as registered with the Receptionist. */
  ServiceKey<AgentCommand> SERVICE_KEY = ServiceKey.create(AgentCommand.class, "decodefleet-gpu-agent");

  /**
   * Announce yourself to {@code replyTo} and send it every report from now on. An agent serves one
   * coordinator at a time: a Register (or any command with a reply address) from another one
   * aborts the sequences of the previous coordinator, and when its coordinator terminates (its
   * node left or was downed) the agent aborts every sequence, so no KV is held for nobody.
   */
  record Register(ActorRef<AgentReport> replyTo) implements AgentCommand, ProtocolMessage {}

  /**
   * The coordinator will not register this agent: its id is held by a live agent of another node
   * ({@code reason} names the id and both nodes, in one line). Its node cannot serve as started.
   */
  record RegistrationRefused(String reason) implements AgentCommand, ProtocolMessage {}

  /**
   * Load the model; the answer is ModelLoaded or LoadFailed.
   *
   * @param keepResident when this very spec is already resident (or loading), keep that engine and
   *     answer ModelLoaded from it at once instead of loading afresh: how a coordinator that takes
   *     over adopts a fleet; false gives a fresh engine (a benchmark's clean KV and prefix cache)
   */
  record LoadModel(ModelSpec spec, ActorRef<AgentReport> replyTo, boolean keepResident)
      implements AgentCommand, ProtocolMessage {
    /** A fresh engine. */
    public LoadModel(ModelSpec spec, ActorRef<AgentReport> replyTo) {
      this(spec, replyTo, false);
    }
  }

  record StartSequences(List<SequenceSpec> sequences) implements AgentCommand, ProtocolMessage {}

  /** Stop taking work and hand back what is unfinished; the answer is Drained. */
  record Drain(ActorRef<AgentReport> replyTo) implements AgentCommand, ProtocolMessage {}

  /** Make a unique id for a new KV group; the answer is KvGroupId or KvGroupFailed. */
  record CreateKvGroupId(ActorRef<AgentReport> replyTo) implements AgentCommand, ProtocolMessage {}

  /**
   * Join the KV group as {@code rank} of {@code nranks}: the engine thread creates the
   * communicator and checks a first exchange with each of {@code peers}. The answer is
   * KvGroupJoined or KvGroupFailed.
   *
   * @param id the group's unique id, byte[128]
   * @param transferMode "eager" or "graph"
   * @param timeoutMillis limit for joining and for each transfer
   */
  record JoinKvGroup(byte[] id, int rank, int nranks, List<Integer> peers, String transferMode,
      long timeoutMillis, ActorRef<AgentReport> replyTo) implements AgentCommand, ProtocolMessage {
    @Override
    public boolean equals(Object o) {
      return o instanceof JoinKvGroup j && java.util.Arrays.equals(j.id, id) && j.rank == rank && j.nranks == nranks
          && j.peers.equals(peers) && j.transferMode.equals(transferMode) && j.timeoutMillis == timeoutMillis
          && j.replyTo.equals(replyTo);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.hashCode(id) * 31 + rank;
    }

    @Override
    public String toString() {
      return "JoinKvGroup[rank " + rank + " of " + nranks + ", peers " + peers + ", " + transferMode + "]";
    }
  }

  /**
   * Cancel these sequences (the submitter went away, or its text hit a stop string): each stops and
   * frees its KV without a report (the coordinator has forgotten it); ids the agent does not hold
   * are ignored.
   */
  record AbortSequences(List<Long> sequenceIds) implements AgentCommand, ProtocolMessage {}

  /**
   * Time every kernel family of the next {@code steps} decode-only steps, from now until the busy
   * spell they fall in ends, on top of the model's own {@link ModelSpec#profileSteps}: how one
   * benchmark run of a serving cluster asks for a profile. An agent with no model ignores it.
   */
  record ProfileSteps(int steps) implements AgentCommand, ProtocolMessage {}

  /** Abort the KV group now: pending transfers fail, none start. */
  record AbortKvGroup(String reason) implements AgentCommand, ProtocolMessage {}

  /** Send sequence {@code sequenceId}'s KV to group rank {@code peerRank}; a negative rank drops it. */
  record SendKv(long sequenceId, int peerRank) implements AgentCommand, ProtocolMessage {}

  /**
   * Receive a sequence's KV from group rank {@code peerRank} and continue decoding it.
   *
   * @param outputTokens tokens generated so far (already streamed to the submitter)
   * @param maxTokens output tokens in all, {@code outputTokens} included
   * @param numComputedTokens positions whose K/V arrive
   * @param sampling the sequence's sampling and stop rules, as it started with them
   */
  record ReceiveKv(long sequenceId, int[] promptTokens, int[] outputTokens, int maxTokens,
      int numComputedTokens, int peerRank, SamplingParams sampling) implements AgentCommand, ProtocolMessage {

    /** A greedy sequence without stop tokens (a benchmark request). */
    public ReceiveKv(long sequenceId, int[] promptTokens, int[] outputTokens, int maxTokens, int numComputedTokens,
        int peerRank) {
      this(sequenceId, promptTokens, outputTokens, maxTokens, numComputedTokens, peerRank, SamplingParams.GREEDY);
    }
    @Override
    public boolean equals(Object o) {
      return o instanceof ReceiveKv r && r.sequenceId == sequenceId && java.util.Arrays.equals(r.promptTokens,
          promptTokens) && java.util.Arrays.equals(r.outputTokens, outputTokens) && r.maxTokens == maxTokens
          && r.numComputedTokens == numComputedTokens && r.peerRank == peerRank && r.sampling.equals(sampling);
    }

    @Override
    public int hashCode() {
      return Long.hashCode(sequenceId) * 31 + peerRank;
    }

    @Override
    public String toString() {
      return "ReceiveKv[" + sequenceId + ", prompt " + promptTokens.length + ", outputs " + outputTokens.length
          + ", computed " + numComputedTokens + ", from rank " + peerRank + "]";
    }
  }
}
