package io.decodefleet.coordinator.metrics;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The mutable history of one request inside {@link MetricsRecorder}: release time, every token's
 * arrival time and the agent that produced it. Times are {@link System#nanoTime()} values.
 */
final class RequestTrace {

  enum State {
    OUTSTANDING,
    COMPLETED,
    FAILED
  }

  private static final double NANOS_PER_MILLI = 1_000_000.0;
  private static final double NANOS_PER_SECOND = 1_000_000_000.0;

  final long requestId;
  final int promptTokens;
  final long releasedNanos;
  State state = State.OUTSTANDING;
  String failureReason;
  int migrations;
  /** The agent that produced the latest token; null before the first. */
  String lastAgent;
  /** How long its agent says it queued before its first step, once completed; -1 unknown. */
  long queueNanos = -1;
  /** From its first step's start to the end of the step of its first token, as its agent says; -1 unknown. */
  long prefillNanos = -1;

  /** One arrival time per token, nanos; tokens of one report share a time. */
  private long[] arrivals = new long[8];

  private int tokens;
  /** Tokens produced per agent, in order of first contribution. */
  private final Map<String, Long> tokensByAgent = new LinkedHashMap<>(2);

  RequestTrace(long requestId, int promptTokens, long releasedNanos) {
    this.requestId = requestId;
    this.promptTokens = promptTokens;
    this.releasedNanos = releasedNanos;
  }

  void addTokens(String agentId, int count, long nanos) {
    if (tokens + count > arrivals.length) {
      arrivals = Arrays.copyOf(arrivals, Math.max(arrivals.length * 2, tokens + count));
    }
    Arrays.fill(arrivals, tokens, tokens + count, nanos);
    tokens += count;
    tokensByAgent.merge(agentId, (long) count, Long::sum);
    lastAgent = agentId;
  }

  int tokens() {
    return tokens;
  }

  /** When the latest token arrived; only once one has. */
  long lastArrivalNanos() {
    return arrivals[tokens - 1];
  }

  Map<String, Long> tokensByAgent() {
    return tokensByAgent;
  }

  /** First token arrival minus release, ms; NaN before the first token. */
  double ttftMs() {
    return tokens == 0 ? Double.NaN : (arrivals[0] - releasedNanos) / NANOS_PER_MILLI;
  }

  /** Last token arrival minus release, ms; NaN before the first token. */
  double e2eMs() {
    return tokens == 0 ? Double.NaN : (arrivals[tokens - 1] - releasedNanos) / NANOS_PER_MILLI;
  }

  /** (E2E - TTFT) / (tokens - 1), ms; NaN with fewer than two tokens (vLLM leaves those out). */
  double tpotMs() {
    return tokens < 2
        ? Double.NaN
        : (arrivals[tokens - 1] - arrivals[0]) / NANOS_PER_MILLI / (tokens - 1);
  }

  /** Appends the {@code tokens - 1} gaps between consecutive arrivals, ms, to {@code sink}. */
  void addItlMs(DoubleList sink) {
    for (int i = 1; i < tokens; i++) {
      sink.add((arrivals[i] - arrivals[i - 1]) / NANOS_PER_MILLI);
    }
  }

  /** This request, completed for {@code reason} after {@code queueNanos} in its agent's queue (-1: unknown). */
  CompletedRequest completed(String reason, long queueNanos) {
    this.queueNanos = queueNanos;
    double[] itl = new double[Math.max(0, tokens - 1)];
    for (int i = 1; i < tokens; i++) {
      itl[i - 1] = (arrivals[i] - arrivals[i - 1]) / NANOS_PER_SECOND;
    }
    return new CompletedRequest(reason, promptTokens, tokens, ttftMs() / 1e3, tpotMs() / 1e3, e2eMs() / 1e3, itl,
        queueNanos < 0 ? Double.NaN : queueNanos / NANOS_PER_SECOND,
        prefillNanos < 0 ? Double.NaN : prefillNanos / NANOS_PER_SECOND);
  }

  /** This request as a record, its release and token times in ms after {@code originNanos}. */
  RequestRecord toRecord(long originNanos) {
    DoubleList gaps = new DoubleList();
    addItlMs(gaps);
    double[] arrivalsMs = new double[tokens];
    for (int i = 0; i < tokens; i++) {
      arrivalsMs[i] = (arrivals[i] - originNanos) / NANOS_PER_MILLI;
    }
    return new RequestRecord(
        requestId,
        lastAgent,
        promptTokens,
        tokens,
        state == State.COMPLETED,
        failureReason,
        ttftMs(),
        tpotMs(),
        e2eMs(),
        new TimesMs(gaps.toArray()),
        migrations,
        (releasedNanos - originNanos) / NANOS_PER_MILLI,
        new TimesMs(arrivalsMs),
        queueNanos < 0 ? Double.NaN : queueNanos / NANOS_PER_MILLI,
        prefillNanos < 0 ? Double.NaN : prefillNanos / NANOS_PER_MILLI);
  }

  /** A growable array of primitive doubles, so pooled ITL samples are not boxed one by one. */
  static final class DoubleList {
    private double[] values = new double[16];
    private int size;

    void add(double value) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = value;
    }

    int size() {
      return size;
    }

    double[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}
