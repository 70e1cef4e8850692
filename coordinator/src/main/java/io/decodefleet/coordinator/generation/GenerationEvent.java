package io.decodefleet.coordinator.generation;

import io.decodefleet.coordinator.fleet.SequenceEvent.FailureKind;
import io.decodefleet.coordinator.metrics.RequestRecord;

/** What one generation tells its API, in order: deltas, then one Done or Failed, then End. */
public sealed interface GenerationEvent {

  /** The last message of a generation: nothing follows (a stream completes on it). */
  enum End implements GenerationEvent { INSTANCE }

  /**
   * New output since the last delta.
   *
   * @param text new text, possibly empty (held back: an unfinished character, or what may be the
   *     start of a stop string)
   * @param tokenIds (n) new token ids, the stop token included
   * @param agentId the agent that produced them
   * @param elapsedMs arrival on the coordinator's clock, since the request arrived
   */
  record Delta(String text, int[] tokenIds, String agentId, double elapsedMs) implements GenerationEvent {}

  /**
   * @param finishReason "stop" (a stop token or string) or "length" (max tokens, or the context)
   * @param completionTokens output tokens the model produced (a stop token included)
   * @param timing the request's TTFT, TPOT, ITL and E2E, as a benchmark measures them
   */
  record Done(String finishReason, int promptTokens, int completionTokens, RequestRecord timing)
      implements GenerationEvent {}

  /** The fleet could not serve it; {@code kind} says which status the API answers. */
  record Failed(FailureKind kind, String reason) implements GenerationEvent {}
}
