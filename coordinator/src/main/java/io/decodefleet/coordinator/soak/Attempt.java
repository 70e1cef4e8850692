package io.decodefleet.coordinator.soak;

/**
 * How one attempt at a request ended, as the client saw it.
 *
 * @param outcome completed, ended with a status worth sending the request again for, or failed for good
 * @param tokens (output tokens) the generated token ids, in order, as streamed; empty unless completed
 * @param duplicated whether the stream delivered a token twice (an index seen again, or more tokens than
 *     asked for)
 * @param migrations times the sequence moved between agents (gRPC's summary; 0 over HTTP, which does
 *     not say)
 * @param reason why it did not complete, one line; null when it did
 */
record Attempt(Outcome outcome, int[] tokens, boolean duplicated, int migrations, String reason) {

  enum Outcome {
    COMPLETED,
    /** UNAVAILABLE, HTTP 503, or a connection refused, reset or cut short: send it again. */
    RETRIABLE,
    FAILED
  }

  static Attempt completed(int[] tokens, boolean duplicated, int migrations) {
    return new Attempt(Outcome.COMPLETED, tokens, duplicated, migrations, null);
  }

  static Attempt retriable(String reason, boolean duplicated) {
    return new Attempt(Outcome.RETRIABLE, new int[0], duplicated, 0, reason);
  }

  static Attempt failed(String reason, boolean duplicated) {
    return new Attempt(Outcome.FAILED, new int[0], duplicated, 0, reason);
  }
}
