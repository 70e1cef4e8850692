package io.decodefleet.coordinator.metrics;

/**
 * A completed request's measurements as a {@link RequestObserver} hears them, in seconds, with the
 * definitions of {@link MetricsRecorder} (the coordinator's clock).
 *
 * @param finishedReason why it ended: "stop" or "length"; "unknown" when the caller did not say
 * @param ttftSeconds first token arrival minus release
 * @param tpotSeconds (E2E - TTFT) / (outputTokens - 1); NaN with one output token
 * @param e2eSeconds last token arrival minus release
 * @param itlSeconds the gaps between consecutive token arrivals (outputTokens - 1 of them)
 * @param queueSeconds how long it waited in its agent's queue before its first scheduled step, as the
 *     agent measured it; NaN where not measured
 * @param prefillSeconds from its first scheduled step's start to the end of the step of its first token,
 *     as the agent measured it; NaN where not measured
 */
public record CompletedRequest(String finishedReason, int promptTokens, int outputTokens, double ttftSeconds,
    double tpotSeconds, double e2eSeconds, double[] itlSeconds, double queueSeconds, double prefillSeconds) {}
