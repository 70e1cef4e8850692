package io.decodefleet.coordinator.soak;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Sends requests with at most {@code concurrency} outstanding and sees each through: an attempt that
 * ends RETRIABLE is sent again, to the next coordinator (so a request whose coordinator is down goes to
 * the other one), after a short back-off that doubles up to {@link #MAX_BACKOFF_MS}; it stays
 * outstanding, holding its slot, until it completes or fails for good. A request is one record however
 * many attempts it takes, so "completed exactly once" is a count over records.
 */
final class SoakLoad implements AutoCloseable {
  static final long FIRST_BACKOFF_MS = 100;
  static final long MAX_BACKOFF_MS = 1600;

  private final GrpcGenerate grpc;
  private final HttpCompletions http;
  private final int coordinators;
  private final Semaphore slots;
  private final ScheduledExecutorService retryTimer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "soak-retries");
    t.setDaemon(true);
    return t;
  });
  private final List<RequestRecord> records = new ArrayList<>();
  private final Object idle = new Object();
  private int outstanding;
  private volatile boolean abandoned;

  SoakLoad(GrpcGenerate grpc, HttpCompletions http, int coordinators, int concurrency) {
    this.grpc = grpc;
    this.http = http;
    this.coordinators = coordinators;
    this.slots = new Semaphore(concurrency);
  }

  /**
   * Sends {@code request} once a slot is free, waiting at most {@code wait}; null (nothing sent) if no
   * slot came free in time.
   */
  RequestRecord send(SoakRequest request, Duration wait) throws InterruptedException {
    if (!slots.tryAcquire(wait.toMillis(), TimeUnit.MILLISECONDS)) return null;
    RequestRecord record = new RequestRecord(request);
    synchronized (idle) {
      records.add(record);
      outstanding++;
    }
    attempt(record, 0);
    return record;
  }

  private void attempt(RequestRecord record, int n) {
    if (abandoned) return;
    int coordinator = (int) Math.floorMod(record.request.id() + n, (long) coordinators);
    CompletionStage<Attempt> sent;
    try {
      sent = switch (record.request.protocol()) {
        case GRPC -> grpc.send(record.request.shape(), coordinator);
        case HTTP -> http.send(record.request.id(), record.request.shape(), coordinator);
      };
    } catch (RuntimeException e) {
      sent = java.util.concurrent.CompletableFuture.completedFuture(Attempt.failed(e.toString(), false));
    }
    sent.whenComplete((a, error) -> {
      Attempt attempt = error != null ? Attempt.failed("the client failed: " + error, false) : a;
      if (!record.attempted(attempt, coordinator)) {
        long backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS << Math.min(n, 5));
        retryTimer.schedule(() -> attempt(record, n + 1), backoff, TimeUnit.MILLISECONDS);
      } else {
        ended();
      }
    });
  }

  private void ended() {
    slots.release();
    synchronized (idle) {
      outstanding--;
      idle.notifyAll();
    }
  }

  /**
   * Waits until no request is outstanding, at most {@code timeout}; then every request still retrying
   * is abandoned (it counts as lost). Returns whether none had to be.
   */
  boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (idle) {
      while (outstanding > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) break;
        TimeUnit.NANOSECONDS.timedWait(idle, left);
      }
      if (outstanding == 0) return true;
    }
    abandoned = true;
    for (RequestRecord r : records()) {
      if (!r.ended()) r.abandoned("still outstanding " + timeout.toSeconds() + " s after the load stopped");
    }
    return false;
  }

  /** Every request sent so far, in order. */
  List<RequestRecord> records() {
    synchronized (idle) {
      return List.copyOf(records);
    }
  }

  @Override
  public void close() {
    retryTimer.shutdownNow();
  }
}
