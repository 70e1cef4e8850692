package io.decodefleet.coordinator.metrics;

import java.util.List;

/**
 * One request's measurements, in milliseconds on the coordinator's clock. Values that cannot be
 * measured are NaN: TTFT and E2E before any token arrived, TPOT for fewer than two tokens.
 *
 * @param requestId the request's id
 * @param agentId the agent that produced the last token so far; null if no token arrived
 * @param promptTokens prompt length in tokens
 * @param outputTokens tokens that arrived
 * @param completed whether the request finished (false while outstanding and when failed)
 * @param failureReason why it failed; null unless it failed
 * @param ttftMs first token arrival minus release
 * @param tpotMs (E2E - TTFT) / (outputTokens - 1)
 * @param e2eMs last token arrival minus release
 * @param itlMs gaps between consecutive token arrivals (outputTokens - 1 of them; 0 within a report)
 * @param migrations how often the request moved to another agent
 * @param releasedMs its release, ms after the run's start (the origin {@link
 *     MetricsRecorder#requests(long)} was given)
 * @param tokenArrivalsMs every token's arrival, ms after the run's start, in order (tokens of one
 *     report share a time); TTFT, E2E and the ITL gaps are differences of these taken in nanoseconds
 * @param queueMs how long its agent's engine held it before its first scheduled step, as the agent
 *     reports it on completion (on the agent's clock); NaN when unknown
 * @param prefillMs from the start of its first scheduled step to the end of the step that gave its
 *     first token, as its agent reports it; NaN when unknown. TTFT minus queue and prefill is the
 *     time its messages took (to the agent, and the first token's back) and anything else on the way
 */
public record RequestRecord(
    long requestId,
    String agentId,
    int promptTokens,
    int outputTokens,
    boolean completed,
    String failureReason,
    double ttftMs,
    double tpotMs,
    double e2eMs,
    List<Double> itlMs,
    int migrations,
    double releasedMs,
    List<Double> tokenArrivalsMs,
    double queueMs,
    double prefillMs) {

  public RequestRecord {
    // A recorder's lists are already unmodifiable and unboxed (TimesMs); others are copied.
    itlMs = itlMs instanceof TimesMs ? itlMs : List.copyOf(itlMs);
    tokenArrivalsMs = tokenArrivalsMs instanceof TimesMs ? tokenArrivalsMs : List.copyOf(tokenArrivalsMs);
  }
}
