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

  /**
   * A request's first token arrived, {@code ttftSeconds} after its release: observed then, as vLLM
   * observes it, not when the request ends (a scrape during a long request already sees it).
   */
  default void firstToken(double ttftSeconds) {}

  /** {@code count} tokens of a request arrived. */
  default void tokensGenerated(int count) {}

  /**
   * A token after a request's first arrived {@code gapSeconds} after the one before it (tokens of one
   * step report: 0); one call per token, as it arrives.
   */
  default void tokenGap(double gapSeconds) {}

  /** A request completed (with at least one token). */
  default void requestCompleted(CompletedRequest request) {}
}
