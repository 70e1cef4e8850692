package io.decodefleet.coordinator.metrics;

import io.decodefleet.coordinator.metrics.RequestTrace.State;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Follows each request's life on the coordinator's clock ({@link System#nanoTime()} values passed
 * in by the caller) and summarises the run with the definitions of {@code vllm bench serve}.
 *
 * <p>Not thread-safe: the coordinator actor owns it and calls it from its own thread only.
 *
 * <p>Lifecycle: {@link #requestReleased} once per id, then any number of {@link #tokensArrived} and
 * {@link #requestMigrated}, then one terminal {@link #requestFinished} or {@link #requestFailed}.
 * Once terminal, a request never changes: a second terminal call and late token reports (say from
 * an agent the request was taken away from) are ignored, so nothing is counted twice. A request
 * that finishes without a single token is counted as failed, since it has no TTFT or E2E to report.
 * Every method throws {@link IllegalArgumentException} naming the id when the id was never
 * released.
 */
public final class MetricsRecorder {

  /** Failure reason recorded for a request that finished without producing any token. */
  static final String NO_OUTPUT_REASON = "finished without output tokens";

  private static final double NANOS_PER_SECOND = 1_000_000_000.0;

  /** Every released request, in release order. */
  private final Map<Long, RequestTrace> traces = new LinkedHashMap<>();

  private int completed;
  private int failed;
  private long outputTokens;
  private int migrations;
  private final RequestObserver observer;

  public MetricsRecorder() {
    this(RequestObserver.NONE);
  }

  /** @param observer hears each request's tokens and completion (live metrics) */
  public MetricsRecorder(RequestObserver observer) {
    this.observer = Objects.requireNonNull(observer, "observer");
  }

  /**
   * A request was sent to the cluster: the "start" time of vLLM's measurements.
   *
   * @param maxTokens the request's output limit; validated but not reported (vLLM reports the
   *     tokens actually produced)
   * @param nanos release time, {@link System#nanoTime()}
   * @throws IllegalArgumentException if the id was released before or a token count is negative
   */
  public void requestReleased(long requestId, int promptTokens, int maxTokens, long nanos) {
    if (promptTokens < 0 || maxTokens < 0) {
      throw new IllegalArgumentException(
          "request " + requestId + ": negative token count (prompt " + promptTokens
              + ", max " + maxTokens + ")");
    }
    if (traces.containsKey(requestId)) {
      throw new IllegalArgumentException("request " + requestId + " was already released");
    }
    traces.put(requestId, new RequestTrace(requestId, promptTokens, nanos));
  }

  /**
   * {@code count} tokens of the request arrived in one batched step report from {@code agentId};
   * they share the arrival time {@code nanos}, so they add gaps of 0 to the ITL samples. A count of
   * 0 carries no timing and is ignored.
   *
   * @throws IllegalArgumentException if the id is unknown or {@code count} is negative
   */
  public void tokensArrived(long requestId, String agentId, int count, long nanos) {
    RequestTrace trace = trace(requestId);
    Objects.requireNonNull(agentId, "agentId");
    if (count < 0) {
      throw new IllegalArgumentException("request " + requestId + ": negative token count " + count);
    }
    if (count == 0 || trace.state != State.OUTSTANDING) {
      return;
    }
    boolean first = trace.tokens() == 0;
    long previous = first ? trace.releasedNanos : trace.lastArrivalNanos();
    trace.addTokens(agentId, count, nanos);
    outputTokens += count;
    if (first) {
      observer.promptComputed(trace.promptTokens);
      observer.firstToken((nanos - previous) / 1e9);
    } else {
      observer.tokenGap((nanos - previous) / 1e9);
    }
    for (int i = 1; i < count; i++) observer.tokenGap(0);
    observer.tokensGenerated(count);
  }

  /**
   * The request finished, for a reason not given ("unknown") and with its queue time unknown.
   *
   * @throws IllegalArgumentException if the id is unknown
   */
  public void requestFinished(long requestId, long nanos) {
    requestFinished(requestId, "unknown", -1, nanos);
  }

  /**
   * The request finished. E2E is measured to its last token's arrival, as vLLM measures to the last
   * streamed chunk, so {@code nanos} does not enter the latencies.
   *
   * @param finishedReason "stop" or "length", for the observer
   * @param queueNanos how long its agent says it queued before its first step; -1: unknown
   * @throws IllegalArgumentException if the id is unknown
   */
  public void requestFinished(long requestId, String finishedReason, long queueNanos, long nanos) {
    requestFinished(requestId, finishedReason, queueNanos, -1, nanos);
  }

  /**
   * As above, with how long its first scheduled step took to give its first token, as its agent
   * says ({@code prefillNanos}; -1: unknown).
   */
  public void requestFinished(long requestId, String finishedReason, long queueNanos, long prefillNanos, long nanos) {
    RequestTrace trace = trace(requestId);
    trace.prefillNanos = prefillNanos;
    if (trace.state != State.OUTSTANDING) {
      return;
    }
    if (trace.tokens() == 0) {
      fail(trace, NO_OUTPUT_REASON);
      return;
    }
    trace.state = State.COMPLETED;
    completed++;
    observer.requestCompleted(trace.completed(finishedReason, queueNanos));
  }

  /**
   * The request failed; it leaves the latency statistics and throughputs but stays in {@link
   * #requests()} with its reason.
   *
   * @throws IllegalArgumentException if the id is unknown
   */
  public void requestFailed(long requestId, String reason, long nanos) {
    RequestTrace trace = trace(requestId);
    if (trace.state == State.OUTSTANDING) {
      fail(trace, reason == null ? "unknown" : reason);
    }
  }

  /**
   * The request moved from one agent to another; counted on the request and in the run's total.
   *
   * @throws IllegalArgumentException if the id is unknown
   */
  public void requestMigrated(long requestId, String fromAgent, String toAgent) {
    RequestTrace trace = trace(requestId);
    if (trace.state != State.OUTSTANDING) {
      return;
    }
    trace.migrations++;
    migrations++;
  }

  /** Requests that finished. */
  public int completed() {
    return completed;
  }

  /** Requests that failed. */
  public int failed() {
    return failed;
  }

  /** Requests released but neither finished nor failed yet. */
  public int outstanding() {
    return traces.size() - completed - failed;
  }

  /**
   * Tokens that arrived so far, over all requests including outstanding and failed ones: the live
   * progress count. {@link BenchmarkResult#totalOutputTokens()} counts completed requests only.
   */
  public long outputTokens() {
    return outputTokens;
  }

  /**
   * Summarises the run so far. Outstanding requests count neither as completed nor as failed.
   *
   * @param startNanos run start, {@link System#nanoTime()}
   * @param endNanos run end; the duration is {@code endNanos - startNanos}
   * @throws IllegalArgumentException if the duration is not positive (throughput would be infinite)
   */
  public BenchmarkResult summarize(long startNanos, long endNanos) {
    if (endNanos <= startNanos) {
      throw new IllegalArgumentException(
          "run end " + endNanos + " ns is not after its start " + startNanos + " ns");
    }
    double seconds = (endNanos - startNanos) / NANOS_PER_SECOND;
    long inputTokens = 0;
    long doneTokens = 0;
    // agent id -> {requests, output tokens}; every agent that produced a token is listed, even
    // if all its requests failed, so a broken agent still shows up with zeros.
    Map<String, long[]> byAgent = new TreeMap<>(AgentOrder.INSTANCE);
    for (RequestTrace trace : traces.values()) {
      boolean done = trace.state == State.COMPLETED;
      for (Map.Entry<String, Long> produced : trace.tokensByAgent().entrySet()) {
        long[] counts = byAgent.computeIfAbsent(produced.getKey(), id -> new long[2]);
        if (done) {
          counts[1] += produced.getValue();
        }
      }
      if (!done) {
        continue;
      }
      byAgent.get(trace.lastAgent)[0]++;
      inputTokens += trace.promptTokens;
      doneTokens += trace.tokens();
    }
    LatencyStats[] latency = LatencySamples.of(requests()).stats(LatencyStats.DEFAULT_PERCENTILES);
    List<AgentStats> agents = new ArrayList<>(byAgent.size());
    byAgent.forEach((id, counts) -> agents.add(new AgentStats(id, (int) counts[0], counts[1])));
    return new BenchmarkResult(
        completed,
        failed,
        seconds,
        inputTokens,
        doneTokens,
        completed / seconds,
        doneTokens / seconds,
        (inputTokens + doneTokens) / seconds,
        latency[0],
        latency[1],
        latency[2],
        latency[3],
        agents,
        migrations);
  }

  /**
   * Summarises the run so far as {@link #summarize(long, long)} does, with the request goodput
   * against {@code slos} (NaN when {@code slos} is null or empty).
   */
  public BenchmarkResult summarize(long startNanos, long endNanos, SloSpec slos) {
    return summarize(startNanos, endNanos).withGoodput(slos, requests(startNanos));
  }

  /**
   * A snapshot of every released request, in release order, with release and token times in ms
   * after the first request's release.
   */
  public List<RequestRecord> requests() {
    return requests(traces.isEmpty() ? 0 : traces.values().iterator().next().releasedNanos);
  }

  /**
   * A snapshot of every released request, in release order, with release and token times in ms
   * after {@code startNanos} (the run's start, {@link System#nanoTime()}).
   */
  public List<RequestRecord> requests(long startNanos) {
    List<RequestRecord> records = new ArrayList<>(traces.size());
    for (RequestTrace trace : traces.values()) {
      records.add(trace.toRecord(startNanos));
    }
    return records;
  }

  private RequestTrace trace(long requestId) {
    RequestTrace trace = traces.get(requestId);
    if (trace == null) {
      throw new IllegalArgumentException("unknown request id " + requestId);
    }
    return trace;
  }

  private void fail(RequestTrace trace, String reason) {
    trace.state = State.FAILED;
    trace.failureReason = reason;
    failed++;
  }
}
