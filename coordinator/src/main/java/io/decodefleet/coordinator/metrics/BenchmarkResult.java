package io.decodefleet.coordinator.metrics;

import java.util.List;
import java.util.Objects;

/**
 * The summary of a benchmark run, with the definitions of {@code vllm bench serve}. Latencies are in
 * milliseconds and are taken over completed requests only; throughputs are per second of {@code
 * durationSeconds} and count completed requests only.
 *
 * @param completed requests that finished
 * @param failed requests that failed
 * @param durationSeconds wall time of the run, in seconds
 * @param totalInputTokens prompt tokens of completed requests
 * @param totalOutputTokens output tokens of completed requests
 * @param requestThroughput completed requests per second
 * @param outputTokenThroughput output tokens of completed requests per second
 * @param totalTokenThroughput prompt plus output tokens of completed requests per second
 * @param ttftMs time to first token: first token arrival minus release
 * @param tpotMs time per output token after the first: (E2E - TTFT) / (output tokens - 1), only
 *     for requests with more than one output token
 * @param itlMs inter-token latency: every gap between consecutive token arrivals, pooled over
 *     requests (tokens delivered in the same report give gaps of 0)
 * @param e2eMs end-to-end latency: last token arrival minus release
 * @param agents per-agent contributions, agent ids in natural order ("agent-2" before "agent-10")
 * @param migrations request migrations over the whole run, failed requests included
 * @param requestGoodput completed requests that met every goodput SLO, per second ({@code vllm
 *     bench serve --goodput}); NaN when no SLOs were given
 */
public record BenchmarkResult(
    int completed,
    int failed,
    double durationSeconds,
    long totalInputTokens,
    long totalOutputTokens,
    double requestThroughput,
    double outputTokenThroughput,
    double totalTokenThroughput,
    LatencyStats ttftMs,
    LatencyStats tpotMs,
    LatencyStats itlMs,
    LatencyStats e2eMs,
    List<AgentStats> agents,
    int migrations,
    double requestGoodput) {

  public BenchmarkResult {
    agents = List.copyOf(agents);
  }

  /** A result without goodput (no SLOs given): {@link #requestGoodput()} is NaN. */
  public BenchmarkResult(
      int completed,
      int failed,
      double durationSeconds,
      long totalInputTokens,
      long totalOutputTokens,
      double requestThroughput,
      double outputTokenThroughput,
      double totalTokenThroughput,
      LatencyStats ttftMs,
      LatencyStats tpotMs,
      LatencyStats itlMs,
      LatencyStats e2eMs,
      List<AgentStats> agents,
      int migrations) {
    this(completed, failed, durationSeconds, totalInputTokens, totalOutputTokens,
        requestThroughput, outputTokenThroughput, totalTokenThroughput, ttftMs, tpotMs, itlMs,
        e2eMs, agents, migrations, Double.NaN);
  }

  /** Whether goodput was measured, i.e. SLOs were given. */
  public boolean hasGoodput() {
    return !Double.isNaN(requestGoodput);
  }

  /**
   * This result with its goodput measured against {@code slos} over {@code requests} (the same
   * run's records, as {@link MetricsRecorder#requests()} gives them) and this run's duration.
   * Null or empty SLOs give a result without goodput.
   */
  public BenchmarkResult withGoodput(SloSpec slos, List<RequestRecord> requests) {
    Objects.requireNonNull(requests, "requests");
    double goodput = slos == null || slos.isEmpty()
        ? Double.NaN
        : slos.goodRequests(requests) / durationSeconds;
    return new BenchmarkResult(completed, failed, durationSeconds, totalInputTokens,
        totalOutputTokens, requestThroughput, outputTokenThroughput, totalTokenThroughput, ttftMs,
        tpotMs, itlMs, e2eMs, agents, migrations, goodput);
  }

  /**
   * This result with its latency statistics computed again from {@code requests} (the same run's
   * records) with {@code percentiles} (each in 0..100) in each {@link LatencyStats#percentiles()}.
   */
  public BenchmarkResult withPercentiles(List<Double> percentiles, List<RequestRecord> requests) {
    LatencyStats[] latency = LatencySamples.of(requests).stats(percentiles);
    return new BenchmarkResult(completed, failed, durationSeconds, totalInputTokens, totalOutputTokens,
        requestThroughput, outputTokenThroughput, totalTokenThroughput, latency[0], latency[1], latency[2],
        latency[3], agents, migrations, requestGoodput);
  }
}
