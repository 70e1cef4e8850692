package io.decodefleet.coordinator.workload;

/**
 * One benchmark request.
 *
 * @param arrivalNanos when it is released, relative to the start of the run (a later turn of a
 *     conversation: when its conversation arrived; it is released when its previous turn finishes)
 * @param promptTokens (promptLen) token ids; of a later turn, only its new message: its prompt is
 *     the previous turn's prompt and output, then this ({@link ReleaseSchedule} puts it together)
 * @param maxTokens output tokens to generate
 * @param previousTurn the request whose end releases this one (a conversation's earlier turn); -1: none
 */
public record RequestSpec(long requestId, long arrivalNanos, int[] promptTokens, int maxTokens, long previousTurn) {

  /** A request of its own, released at its arrival offset. */
  public RequestSpec(long requestId, long arrivalNanos, int[] promptTokens, int maxTokens) {
    this(requestId, arrivalNanos, promptTokens, maxTokens, -1);
  }

  /** Whether it is a later turn of a conversation, released when {@link #previousTurn} finishes. */
  public boolean followsTurn() {
    return previousTurn >= 0;
  }
}
