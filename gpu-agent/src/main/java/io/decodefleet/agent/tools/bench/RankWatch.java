package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.nccl.NcclCommunicator;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Waits for the bench's rank threads and makes a failed run end instead of hang: the first rank
 * to fail breaks the barrier (the others then abort their communicators and stop); a rank still
 * running {@link #GRACE_MS} later is blocked where only an abort reaches it (a stream waiting for
 * a dead peer), so its communicator is aborted from here; one still running after that is left
 * behind (its thread is a daemon) and the run fails anyway.
 */
final class RankWatch {

  static final long GRACE_MS = 10_000;
  private static final long POLL_MS = 50;

  private RankWatch() {}

  /** Returns when every rank finished cleanly; else throws the root failure, naming its rank. */
  static void await(List<Future<?>> ranks, CyclicBarrier barrier, AtomicLongArray comms,
      List<GpuInfo> gpus) {
    RuntimeException failure = null;
    boolean rootCause = false;
    long failedAt = 0;
    long abortedAt = 0;
    while (true) {
      boolean running = false;
      for (int r = 0; r < ranks.size(); r++) {
        Future<?> f = ranks.get(r);
        if (!f.isDone()) {
          running = true;
          continue;
        }
        Throwable t = failureOf(f);
        boolean root = t != null && !(t instanceof BrokenBarrierException);
        if (t != null && (failure == null || (root && !rootCause))) {
          failure = new IllegalStateException("rank " + r + " (GPU " + gpus.get(r).index() + "): "
              + oneLine(t), t);
          rootCause = root;
          if (failedAt == 0) {
            failedAt = System.nanoTime();
            barrier.reset();
          }
        }
      }
      if (!running) {
        break;
      }
      long now = System.nanoTime();
      long grace = TimeUnit.MILLISECONDS.toNanos(GRACE_MS);
      if (failedAt != 0 && abortedAt == 0 && now - failedAt > grace) {
        for (int r = 0; r < comms.length(); r++) {
          if (comms.get(r) != 0) {
            NcclCommunicator.commAbort(comms.get(r)); // false for those their rank already aborted
          }
        }
        abortedAt = now;
      }
      if (abortedAt != 0 && now - abortedAt > grace) {
        break;
      }
      sleep();
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static Throwable failureOf(Future<?> f) {
    try {
      f.get();
      return null;
    } catch (ExecutionException e) {
      return e.getCause() != null ? e.getCause() : e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return e;
    } catch (RuntimeException e) {
      return e; // cancelled
    }
  }

  private static String oneLine(Throwable t) {
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return m.replaceAll("\\s*\\R\\s*", " ");
  }

  private static void sleep() {
    try {
      Thread.sleep(POLL_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the NCCL bench's ranks", e);
    }
  }
}
