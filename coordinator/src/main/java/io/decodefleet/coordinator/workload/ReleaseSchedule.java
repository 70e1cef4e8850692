package io.decodefleet.coordinator.workload;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * When each request of a run is released: in order, once its arrival offset from the run's start has
 * passed, and never while {@code maxConcurrency} requests are outstanding (vLLM's {@code
 * --max-concurrency} semaphore): a request that is due waits, in order, for a free slot.
 *
 * <p>Pure bookkeeping: the caller owns the clock (elapsed nanoseconds since its run started) and
 * counts its outstanding requests. The in-process benchmark and the client of an OpenAI endpoint both
 * pace their requests with it. Not thread-safe.
 */
public final class ReleaseSchedule {
  private final List<RequestSpec> requests;
  private final int maxConcurrency;
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
    this.requests = List.copyOf(requests);
    this.maxConcurrency = maxConcurrency;
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

  /** Whether every request has been released. */
  public boolean allReleased() {
    return nextArrival == requests.size() && due.isEmpty();
  }
}
