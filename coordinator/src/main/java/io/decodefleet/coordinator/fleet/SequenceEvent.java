package io.decodefleet.coordinator.fleet;

import io.decodefleet.agent.engine.VerifyResult;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What the coordinator tells the submitter of a sequence, in order: Accepted, tokens as their step
 * reports arrive (timestamped on the coordinator's clock; a submitter on another node than the
 * Coordinator's stamps them on arrival there), migrations, then one Finished or Failed.
 * {@code requestId} is the submitter's own id.
 */
public interface SequenceEvent {
  long requestId();

  /**
   * The Coordinator took the sequence; everything else comes from {@code coordinator}. A submitter
   * watches it: when it terminates (its node was lost, or it handed over to another node) before
   * the sequence ended, the sequence is lost with it.
   */
  record Accepted(long requestId, ActorRef<?> coordinator) implements SequenceEvent {}

  /** @param tokens consecutive output tokens; @param nanos arrival time (System.nanoTime) */
  record Tokens(long requestId, int[] tokens, String agentId, long nanos) implements SequenceEvent {}

  /**
   * @param reason "length" (max tokens or the model's context) or "stop" (a stop token)
   * @param queueNanos how long it queued on its agent before its first step, as the agent measured it;
   *     -1: not measured
   * @param prefillNanos from its first step's start to the end of the step of its first token, as the
   *     agent measured it; -1: not measured
   */
  record Finished(long requestId, String agentId, int preemptions, VerifyResult verify, String reason, long queueNanos,
      long prefillNanos, long nanos) implements SequenceEvent {
    /** Queue and prefill times not measured. */
    public Finished(long requestId, String agentId, int preemptions, VerifyResult verify, String reason, long nanos) {
      this(requestId, agentId, preemptions, verify, reason, -1, -1, nanos);
    }
  }

  /**
   * Why a sequence failed, as an API maps it to a status: BUSY is the bound on sequences per agent
   * (retry later, as for the APIs' own in-flight bound); CAPACITY a sequence no agent could ever hold.
   */
  enum FailureKind { INVALID, CAPACITY, BUSY, UNAVAILABLE, AGENT }

  record Failed(long requestId, FailureKind kind, String reason, long nanos) implements SequenceEvent {}

  /** The sequence continues on {@code toAgent} (re-prefilled with its prompt and tokens so far). */
  record Migrated(long requestId, String fromAgent, String toAgent, String cause) implements SequenceEvent {}
}
