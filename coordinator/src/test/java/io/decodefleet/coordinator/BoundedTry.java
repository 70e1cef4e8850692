package io.decodefleet.coordinator;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One try of a property over a decoder, bounded as a server needs its decoders bounded: it ends
 * within a time limit (a decoder that loops on some input is a hang, reported as a failure, not a
 * stuck build) and allocates at most so many bytes (a field that claims a huge count or length must
 * not get that much memory). What the decoder returned or threw is handed back for the property to
 * judge.
 */
public final class BoundedTry {
  /** A decoder's answer: its value, or what it threw (then {@code value} is null). */
  public record Outcome<T>(T value, Throwable thrown) {}

  private record Measured<T>(Outcome<T> outcome, long allocatedBytes) {}

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  /** Tries run on threads of their own so that a hung one can be abandoned. */
  private static final ExecutorService TRIES = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "bounded-try");
    t.setDaemon(true);
    return t;
  });

  private BoundedTry() {}

  /**
   * Runs {@code decoder} once.
   *
   * @throws AssertionError when it runs past {@code limit} or allocates more than {@code maxBytes}
   */
  public static <T> Outcome<T> call(Duration limit, long maxBytes, Callable<T> decoder) throws InterruptedException {
    Future<Measured<T>> future = TRIES.submit(() -> {
      long before = THREADS.getCurrentThreadAllocatedBytes();
      Outcome<T> outcome;
      try {
        outcome = new Outcome<>(decoder.call(), null);
      } catch (Throwable t) {
        outcome = new Outcome<>(null, t);
      }
      return new Measured<>(outcome, THREADS.getCurrentThreadAllocatedBytes() - before);
    });
    Measured<T> measured;
    try {
      measured = future.get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new AssertionError("the decoder was still running after " + limit.toMillis() + " ms: it hangs on this input");
    } catch (ExecutionException e) {
      throw new AssertionError("the try itself failed", e.getCause());
    }
    if (measured.allocatedBytes() > maxBytes) {
      throw new AssertionError("the decoder allocated " + measured.allocatedBytes() + " bytes, more than the "
          + maxBytes + " this input may cost", measured.outcome().thrown());
    }
    return measured.outcome();
  }
}
