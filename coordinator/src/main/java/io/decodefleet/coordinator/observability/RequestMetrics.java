package io.decodefleet.coordinator.observability;

import io.decodefleet.agent.observability.LatencyBuckets;
import io.decodefleet.coordinator.metrics.CompletedRequest;
import io.decodefleet.coordinator.metrics.RequestObserver;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * vLLM's request metrics, under vLLM's names and labelled {@code model_name}: token counters, requests
 * completed by finish reason, and the TTFT, inter-token, TPOT, end-to-end and queue-time histograms.
 * Fed only through {@link RequestObserver}s, i.e. with the values the {@code MetricsRecorder} of a
 * benchmark run or of one API request computed. As in vLLM, TTFT is observed when the first token
 * arrives and each inter-token gap when its token does (a request that fails later keeps them);
 * end-to-end, TPOT and queue time when a request completes.
 */
final class RequestMetrics {
  private final Counter promptTokens;
  private final Counter generationTokens;
  private final Counter success;
  private final Histogram ttft;
  private final Histogram itl;
  private final Histogram tpot;
  private final Histogram e2e;
  private final Histogram queue;
  private final Histogram prefill;

  RequestMetrics(PrometheusRegistry registry) {
    promptTokens = Counter.builder().name("vllm:prompt_tokens_total")
        .help("Prompt tokens computed (counted when a request's first token arrives).")
        .labelNames("model_name").register(registry);
    generationTokens = Counter.builder().name("vllm:generation_tokens_total")
        .help("Tokens generated (counted as they arrive at the coordinator).")
        .labelNames("model_name").register(registry);
    success = Counter.builder().name("vllm:request_success_total")
        .help("Requests completed, by finish reason (stop or length).")
        .labelNames("model_name", "finished_reason").register(registry);
    ttft = histogram(registry, "vllm:time_to_first_token_seconds", "Time to first token: first token arrival minus "
        + "the request's release, on the coordinator's clock, observed when the token arrives.", LatencyBuckets.TIME_TO_FIRST_TOKEN);
    itl = histogram(registry, "vllm:inter_token_latency_seconds", "Gap between consecutive token arrivals of a "
        + "request, observed as each token arrives (tokens of one step report arrive together: gaps of 0).", LatencyBuckets.INTER_TOKEN);
    tpot = histogram(registry, "vllm:request_time_per_output_token_seconds", "Time per output token of a request: "
        + "(E2E - TTFT) / (output tokens - 1), for requests of two or more tokens.", LatencyBuckets.INTER_TOKEN);
    e2e = histogram(registry, "vllm:e2e_request_latency_seconds", "End-to-end request latency: last token arrival "
        + "minus the request's release, on the coordinator's clock.", LatencyBuckets.REQUEST);
    queue = histogram(registry, "vllm:request_queue_time_seconds", "Time a request waited in its agent's queue "
        + "before its first scheduled step, as the agent measured it.", LatencyBuckets.REQUEST);
    prefill = histogram(registry, "vllm:request_prefill_time_seconds", "Time from a request's first scheduled step "
        + "to the end of the step that gave its first token, as the agent measured it.", LatencyBuckets.REQUEST);
  }

  private static Histogram histogram(PrometheusRegistry registry, String name, String help, double[] bounds) {
    return Histogram.builder().name(name).help(help).labelNames("model_name").classicOnly()
        .classicUpperBounds(bounds).register(registry);
  }

  /** What the recorders of requests for {@code model} tell. */
  RequestObserver observer(String model) {
    CounterDataPoint prompt = promptTokens.labelValues(model);
    CounterDataPoint generated = generationTokens.labelValues(model);
    DistributionDataPoint ttftOf = ttft.labelValues(model);
    DistributionDataPoint itlOf = itl.labelValues(model);
    DistributionDataPoint tpotOf = tpot.labelValues(model);
    DistributionDataPoint e2eOf = e2e.labelValues(model);
    DistributionDataPoint queueOf = queue.labelValues(model);
    DistributionDataPoint prefillOf = prefill.labelValues(model);
    // Both reasons from the start, so a rate over the first completions has a sample before them.
    success.labelValues(model, "stop");
    success.labelValues(model, "length");
    return new RequestObserver() {
      @Override
      public void promptComputed(int tokens) {
        prompt.inc(tokens);
      }

      @Override
      public void firstToken(double ttftSeconds) {
        ttftOf.observe(ttftSeconds);
      }

      @Override
      public void tokensGenerated(int count) {
        generated.inc(count);
      }

      @Override
      public void tokenGap(double gapSeconds) {
        itlOf.observe(gapSeconds);
      }

      @Override
      public void requestCompleted(CompletedRequest r) {
        success.labelValues(model, r.finishedReason()).inc();
        e2eOf.observe(r.e2eSeconds());
        if (!Double.isNaN(r.tpotSeconds())) tpotOf.observe(r.tpotSeconds());
        if (!Double.isNaN(r.queueSeconds())) queueOf.observe(r.queueSeconds());
        if (!Double.isNaN(r.prefillSeconds())) prefillOf.observe(r.prefillSeconds());
      }
    };
  }
}
