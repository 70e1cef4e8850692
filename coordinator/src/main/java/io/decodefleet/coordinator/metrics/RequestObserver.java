package io.decodefleet.coordinator.metrics;

/**
 * Hears a {@link MetricsRecorder}'s requests as they progress, for live metrics (the process's
 * {@code /metrics}). Every value is the recorder's: an observer records, it never measures. Called
 * on the recorder's thread.
 */
public interface RequestObserver {

  /** Hears nothing. */
  RequestObserver NONE = new RequestObserver() {};

  /** A request's first token arrived: its prompt of {@code promptTokens} was computed. */
  default void promptComputed(int promptTokens) {}

  /** {@code count} tokens of a request arrived. */
  default void tokensGenerated(int count) {}

  /** A request completed (with at least one token). */
  default void requestCompleted(CompletedRequest request) {}
}
