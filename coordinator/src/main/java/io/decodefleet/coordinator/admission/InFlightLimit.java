package io.decodefleet.coordinator.admission;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bound on API requests served at once, one counter for the gRPC and the HTTP API of a {@code
 * serve} process: a request past it is refused at once (RESOURCE_EXHAUSTED, 429) rather than queued,
 * so what clients can make the fleet hold stays bounded. Thread-safe: every acquired slot is released
 * exactly once, when its request's stream ends.
 */
public final class InFlightLimit {
  private final int limit;
  private final AtomicInteger inFlight = new AtomicInteger();

  /** @param limit requests served at once, at least 1 */
  public InFlightLimit(int limit) {
    if (limit < 1) throw new IllegalArgumentException("the limit of requests in flight must be >= 1, got " + limit);
    this.limit = limit;
  }

  /** Takes a slot; false (and nothing taken) when {@link #limit} requests are in flight. */
  public boolean tryAcquire() {
    if (inFlight.incrementAndGet() <= limit) return true;
    inFlight.decrementAndGet();
    return false;
  }

  /** Gives back a slot {@link #tryAcquire} took. */
  public void release() {
    if (inFlight.decrementAndGet() < 0) throw new IllegalStateException("released a slot that was never taken");
  }

  public int limit() {
    return limit;
  }

  /** Requests in flight now. */
  public int inFlight() {
    return inFlight.get();
  }

  /** What a refused client is told. */
  public String refusal() {
    return "too many requests in flight (" + limit + "); retry later";
  }
}
