package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.kv.HeldKv;
import io.decodefleet.agent.engine.kv.KvTransferOutcome;
import java.util.List;

/**
 * What an {@link Engine} tells its owner, on the engine thread, in the order it happened: a
 * KvReady follows the Stepped event that carried the sequence's token. The owner hands each event
 * off (e.g. tells an actor) and returns at once. The events name no agent: the owner knows which
 * engine it runs.
 */
public sealed interface EngineEvent {

  /**
   * The model is resident; the capacity the engine offers.
   *
   * @param kvTransferUnsupported why the backend cannot move KV pages between agents; empty when it can
   * @param process the engine's process (random per JVM): engines that share it can form a KV group
   * @param loadReport the backend's {@link Backend#loadReport()}
   */
  record Loaded(int kvBlocks, int blockSize, int maxNumSeqs, int maxModelLen, long loadMillis,
      String kvTransferUnsupported, String process, String loadReport) implements EngineEvent {}

  /** The model could not be loaded; the engine thread has ended. */
  record LoadFailed(String reason) implements EngineEvent {}

  /**
   * Every sequence running or waiting was cancelled ({@link Engine#abortAll}).
   *
   * @param sequences how many were cancelled
   * @param freeKvBlocks KV blocks free after it (evictable prefix-cached ones included)
   */
  record AllAborted(int sequences, int freeKvBlocks) implements EngineEvent {}

  /**
   * One engine step that produced tokens or preempted sequences.
   *
   * @param tokens the token each running sequence produced
   * @param finished the sequences that produced their last token
   * @param scheduledTokens tokens the step computed, prefill chunks included
   * @param stepNanos wall time of schedule, execute and update
   * @param preempted sequences preempted to free KV blocks for this step
   * @param numSequences sequences in the step's batch
   * @param path how the backend ran the step (e.g. a graph replay or eager launches)
   * @param hostNanos host time of the backend's step
   * @param gpuMicros device time of the step; NaN where the backend does not measure it
   * @param idleGapMicros device idle time between this step's work and the last; NaN where not measured
   * @param expertLoad tokens each expert of each layer took in the step (a mixture of experts); null for a dense model
   */
  record Stepped(long step, List<SequenceTokens> tokens, List<SequenceFinished> finished, int freeKvBlocks,
      int running, int waiting, int scheduledTokens, long stepNanos, int preempted, int numSequences, String path,
      long hostNanos, double gpuMicros, double idleGapMicros, StepProfile profile, ExpertLoad expertLoad,
      AllReduceTraffic allReduces) implements EngineEvent {

    /** A step whose backend ran no all-reduces. */
    public Stepped(long step, List<SequenceTokens> tokens, List<SequenceFinished> finished, int freeKvBlocks,
        int running, int waiting, int scheduledTokens, long stepNanos, int preempted, int numSequences, String path,
        long hostNanos, double gpuMicros, double idleGapMicros, StepProfile profile, ExpertLoad expertLoad) {
      this(step, tokens, finished, freeKvBlocks, running, waiting, scheduledTokens, stepNanos, preempted, numSequences,
          path, hostNanos, gpuMicros, idleGapMicros, profile, expertLoad, AllReduceTraffic.NONE);
    }

    /** A step of a dense model. */
    public Stepped(long step, List<SequenceTokens> tokens, List<SequenceFinished> finished, int freeKvBlocks,
        int running, int waiting, int scheduledTokens, long stepNanos, int preempted, int numSequences, String path,
        long hostNanos, double gpuMicros, double idleGapMicros, StepProfile profile) {
      this(step, tokens, finished, freeKvBlocks, running, waiting, scheduledTokens, stepNanos, preempted, numSequences,
          path, hostNanos, gpuMicros, idleGapMicros, profile, null);
    }

    /** A step that was not profiled. */
    public Stepped(long step, List<SequenceTokens> tokens, List<SequenceFinished> finished, int freeKvBlocks,
        int running, int waiting, int scheduledTokens, long stepNanos, int preempted, int numSequences, String path,
        long hostNanos, double gpuMicros, double idleGapMicros) {
      this(step, tokens, finished, freeKvBlocks, running, waiting, scheduledTokens, stepNanos, preempted, numSequences,
          path, hostNanos, gpuMicros, idleGapMicros, null);
    }
  }

  /**
   * The prefix cache changed in a step: block content hashes registered and evicted, in order, the
   * prompt tokens looked up and found cached in that step, and the sequences admitted in it after
   * being held back for a prefix another sequence was prefilling.
   */
  record PrefixCacheChanged(List<Long> added, List<Long> evicted, long queriedTokens, long hitTokens,
      long deferredAdmissions) implements EngineEvent {}

  /** A submitted sequence the engine cannot serve, with why. */
  record SequenceRefused(long sequenceId, String reason) implements EngineEvent {}

  /**
   * The engine stopped its work: {@code unfinishedSequenceIds} are given up (to be re-prefilled
   * elsewhere); {@code heldKv} are kept parked with their KV for a transfer, each waiting for an
   * {@link Engine#sendKv} (to a peer, or a negative one to release it).
   */
  record Drained(List<Long> unfinishedSequenceIds, List<HeldKv> heldKv) implements EngineEvent {
    public Drained {
      unfinishedSequenceIds = List.copyOf(unfinishedSequenceIds);
      heldKv = List.copyOf(heldKv);
    }
  }

  /** The engine died; every unfinished sequence is listed so it can be placed elsewhere. */
  record Crashed(String reason, List<Long> unfinishedSequenceIds) implements EngineEvent {
    public Crashed {
      unfinishedSequenceIds = List.copyOf(unfinishedSequenceIds);
    }
  }

  /** A fresh unique id for a KV group (NCCL's 128 opaque bytes), made by this engine's backend. */
  record KvGroupIdCreated(byte[] id) implements EngineEvent {
    @Override
    public boolean equals(Object o) {
      return o instanceof KvGroupIdCreated k && java.util.Arrays.equals(k.id, id);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.hashCode(id);
    }

    @Override
    public String toString() {
      return "KvGroupIdCreated[" + (id == null ? 0 : id.length) + " bytes]";
    }
  }

  /** This engine is member {@code rank} of the KV group; {@code detail} says how. */
  record KvGroupJoined(int rank, String detail) implements EngineEvent {}

  /** This engine could not join the KV group, or the group broke here. */
  record KvGroupFailed(String reason) implements EngineEvent {}

  /**
   * A sequence's KV is ready for a transfer: the K/V of its first {@code numComputedTokens}
   * positions (a prefill-only sequence after its first token).
   */
  record KvReady(long sequenceId, int numComputedTokens) implements EngineEvent {}

  /**
   * One side of a KV transfer is over.
   *
   * @param sender true on the engine that packed and sent, false on the one that received
   * @param bytes the bytes that crossed
   * @param deviceMillis device time of this side; NaN when the transfer failed
   * @param detail why, for RECOMPUTE, DISCARDED and FAILED; empty otherwise
   */
  record KvTransferEnded(long sequenceId, boolean sender, long bytes, double deviceMillis, KvTransferOutcome outcome,
      String detail) implements EngineEvent {}
}
