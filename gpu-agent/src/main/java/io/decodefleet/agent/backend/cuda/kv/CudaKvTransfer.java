package io.decodefleet.agent.backend.cuda.kv;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStatus;
import io.decodefleet.agent.engine.kv.KvTransport;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import jcuda.driver.CUevent;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * One side of one KV transfer of a {@link CudaKvGroupMember}: two events on the member's stream
 * around its device work (their difference is the side's time; the second one's completion is
 * the transfer's), and a watchdog that aborts the group when the transfer outlasts the group's
 * timeout, which is how a dead peer stops holding anything up. Polled on the engine thread.
 */
final class CudaKvTransfer implements KvTransport.Transfer {
  private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "kv-transfer-watchdog");
    t.setDaemon(true);
    return t;
  });

  private final CudaKvGroupMember owner;
  private final CudaContext ctx;
  private final long bytes;
  private final int peer;
  private CUevent start;
  private CUevent end;
  private ScheduledFuture<?> watchdog;
  private volatile boolean over;
  private String failure;
  private boolean quiet = true;
  private double millis = Double.NaN;
  private long abortSeenNanos;

  CudaKvTransfer(CudaKvGroupMember owner, long bytes, int peer) {
    this.owner = owner;
    this.ctx = owner.context();
    this.bytes = bytes;
    this.peer = peer;
  }

  void events() {
    start = newEvent();
    end = newEvent();
  }

  private CUevent newEvent() {
    CUevent e = new CUevent();
    ctx.check(JCudaDriver.cuEventCreate(e, 0), "cuEventCreate(KV transfer)");
    return e;
  }

  void recordStart() {
    ctx.check(JCudaDriver.cuEventRecord(start, owner.stream().handle()), "cuEventRecord(KV transfer start)");
  }

  void recordEnd() {
    ctx.check(JCudaDriver.cuEventRecord(end, owner.stream().handle()), "cuEventRecord(KV transfer end)");
  }

  KvTransport.Transfer failAtOnce(String why) {
    failure = why;
    over = true;
    return this;
  }

  /** Enqueueing failed part way: the pages are safe once the work already enqueued has left the device. */
  KvTransport.Transfer failAfterEnqueue(String why) {
    failure = why;
    try {
      if (end == null) end = newEvent();
      recordEnd();
      owner.track(this);
      arm();
    } catch (RuntimeException e) {
      quiet = false; // the context is broken: nothing about the pages is known
      over = true;
      release();
    }
    return this;
  }

  void arm() {
    long ms = owner.timeout().toMillis();
    watchdog = WATCHDOG.schedule(() -> {
      if (!over) owner.abort("a KV transfer with rank " + peer + " did not finish within " + ms / 1000.0 + " s");
    }, ms, TimeUnit.MILLISECONDS);
  }

  @Override
  public boolean poll() {
    if (over) return true;
    int rc = JCudaDriver.cuEventQuery(end);
    if (rc == CUresult.CUDA_SUCCESS) {
      String aborted = owner.abortReason();
      if (failure == null && aborted != null) {
        failure = "the KV-transfer group was aborted: " + aborted;
      } else if (failure == null) {
        float[] ms = new float[1];
        ctx.check(JCudaDriver.cuEventElapsedTime(ms, start, end), "cuEventElapsedTime(KV transfer)");
        millis = ms[0];
      }
      return finish();
    }
    if (rc != CUresult.CUDA_ERROR_NOT_READY) {
      failure = CudaStatus.message(rc, "cuEventQuery(KV transfer end)", ctx.gpu());
      quiet = false;
      owner.abort(failure);
      return finish();
    }
    if (owner.abortReason() != null) {
      long now = System.nanoTime();
      if (abortSeenNanos == 0) abortSeenNanos = now;
      if (now - abortSeenNanos > TimeUnit.MILLISECONDS.toNanos(CudaKvGroupMember.DRAIN_MILLIS)) {
        failure = "the KV-transfer group was aborted (" + owner.abortReason() + ") and this transfer's device work did "
            + "not end within " + CudaKvGroupMember.DRAIN_MILLIS / 1000 + " s";
        quiet = false;
        return finish();
      }
      return false;
    }
    owner.checkPeers(); // a peer's failure NCCL noticed aborts the group
    return false;
  }

  private boolean finish() {
    over = true;
    release();
    return true;
  }

  /** Cancels the watchdog and frees the events; the transfer leaves the in-flight list. */
  void release() {
    over = true;
    if (watchdog != null) watchdog.cancel(false);
    owner.forget(this);
    if (start != null) JCudaDriver.cuEventDestroy(start);
    if (end != null) JCudaDriver.cuEventDestroy(end);
    start = null;
    end = null;
  }

  @Override
  public long bytes() {
    return bytes;
  }

  @Override
  public double millis() {
    return failure == null ? millis : Double.NaN;
  }

  @Override
  public String failure() {
    return failure;
  }

  @Override
  public boolean pagesQuiet() {
    return quiet;
  }
}

