package io.decodefleet.coordinator.workload;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * When each request of a run is released: in order, once its arrival offset from the run's start has
 * passed, and never while {@code maxConcurrency} requests are outstanding (vLLM's {@code
 * --max-concurrency} semaphore): a request that is due waits, in order, for a free slot.
 *
 * <p>A later turn of a conversation ({@link RequestSpec#followsTurn}) is released once its previous
 * turn finished ({@link #finished}), with that turn's prompt and output in front of its own message,
 * subject to the same concurrency limit; if the previous turn fails, so does every later turn of the
 * conversation ({@link #failed}).
 *
 * <p>Pure bookkeeping: the caller owns the clock (elapsed nanoseconds since its run started) and
 * counts its outstanding requests. The in-process benchmark and the client of an OpenAI endpoint both
 * pace their requests with it. Not thread-safe.
 */
public final class ReleaseSchedule {
  private final List<RequestSpec> requests;
  private final int maxConcurrency;
  /** Later turns by the request whose end releases them. */
  private final java.util.Map<Long, RequestSpec> followUps = new java.util.HashMap<>();
  /** Arrived, not yet released, in arrival order. */
  private final ArrayDeque<RequestSpec> due = new ArrayDeque<>();
  /** The first request that has not arrived yet. */
  private int nextArrival;

  /**
   * @param requests in release order, arrival offsets non-decreasing
   * @param maxConcurrency most requests outstanding at once; 0 = unlimited
   */
  public ReleaseSchedule(List<RequestSpec> requests, int maxConcurrency) {
    if (maxConcurrency < 0) throw new IllegalArgumentException("max concurrency must be >= 0, got " + maxConcurrency);
    this.requests = requests.stream().filter(r -> !r.followsTurn()).toList();
    for (RequestSpec r : requests) {
      if (r.followsTurn() && followUps.put(r.previousTurn(), r) != null) {
        throw new IllegalArgumentException("two requests follow request " + r.previousTurn());
      }
    }
    this.maxConcurrency = maxConcurrency;
  }

  /**
   * Request {@code requestId} finished with {@code outputTokens} after {@code promptTokens}: the
   * conversation's next turn, if any, is due now with those in front of its message.
   */
  public void finished(long requestId, int[] promptTokens, int[] outputTokens) {
    RequestSpec next = followUps.remove(requestId);
    if (next == null) return;
    int[] prompt = java.util.Arrays.copyOf(promptTokens, promptTokens.length + outputTokens.length
        + next.promptTokens().length);
    System.arraycopy(outputTokens, 0, prompt, promptTokens.length, outputTokens.length);
    System.arraycopy(next.promptTokens(), 0, prompt, promptTokens.length + outputTokens.length,
        next.promptTokens().length);
    due.addLast(new RequestSpec(next.requestId(), next.arrivalNanos(), prompt, next.maxTokens(), next.previousTurn()));
  }

  /** Request {@code requestId} failed: the later turns of its conversation will never be released. */
  public List<RequestSpec> failed(long requestId) {
    List<RequestSpec> dropped = new ArrayList<>();
    for (RequestSpec next = followUps.remove(requestId); next != null; next = followUps.remove(next.requestId())) {
      dropped.add(next);
    }
    return dropped;
  }

  /**
   * The requests to release now, in order: those that have arrived by {@code elapsedNanos}, as far as
   * the free slots allow. They count as released from here on; the caller adds them to its
   * outstanding count.
   *
   * @param outstanding requests released and not yet finished or failed
   */
  public List<RequestSpec> release(long elapsedNanos, int outstanding) {
    while (nextArrival < requests.size() && requests.get(nextArrival).arrivalNanos() <= elapsedNanos) {
      due.addLast(requests.get(nextArrival++));
    }
    List<RequestSpec> out = new ArrayList<>();
    while (!due.isEmpty() && (maxConcurrency == 0 || outstanding + out.size() < maxConcurrency)) {
      out.add(due.pollFirst());
    }
    return out;
  }

  /**
   * Nanoseconds from {@code elapsedNanos} until the next request that has not arrived yet arrives
   * (0 when it is already due), or -1 when every request has arrived: from then on only a freed slot
   * releases more.
   */
  public long nanosUntilNextArrival(long elapsedNanos) {
    if (nextArrival == requests.size()) return -1;
    return Math.max(0, requests.get(nextArrival).arrivalNanos() - elapsedNanos);
  }

  /** Whether every request has been released (or dropped with its failed conversation). */
  public boolean allReleased() {
    return nextArrival == requests.size() && due.isEmpty() && followUps.isEmpty();
  }
}
