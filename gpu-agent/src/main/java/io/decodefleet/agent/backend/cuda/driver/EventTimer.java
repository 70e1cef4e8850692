package io.decodefleet.agent.backend.cuda.driver;

import java.util.Arrays;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

/**
 * Device-side timing with CUDA events: each repetition is bracketed by its own pair of events on
 * the stream, so the times exclude host overhead between repetitions' enqueueing and the median
 * is taken over device time.
 */
public final class EventTimer {

  private EventTimer() {}

  /**
   * Runs {@code enqueue} {@code warmup} times untimed, then {@code reps} times each between two
   * events; returns the per-repetition times in microseconds, sorted.
   */
  public static double[] timeUs(CudaStream stream, int warmup, int reps, Runnable enqueue) {
    CudaContext ctx = stream.context();
    for (int i = 0; i < warmup; i++) {
      enqueue.run();
    }
    stream.synchronize("warm-up");
    CUevent[] start = new CUevent[reps];
    CUevent[] end = new CUevent[reps];
    boolean completed = false;
    try {
      for (int i = 0; i < reps; i++) {
        start[i] = create(ctx);
        end[i] = create(ctx);
      }
      for (int i = 0; i < reps; i++) {
        ctx.check(JCudaDriver.cuEventRecord(start[i], stream.handle()), "cuEventRecord");
        enqueue.run();
        ctx.check(JCudaDriver.cuEventRecord(end[i], stream.handle()), "cuEventRecord");
      }
      stream.synchronize("timed repetitions");
      double[] us = new double[reps];
      float[] ms = new float[1];
      for (int i = 0; i < reps; i++) {
        ctx.check(JCudaDriver.cuEventElapsedTime(ms, start[i], end[i]), "cuEventElapsedTime");
        us[i] = ms[0] * 1000.0;
      }
      Arrays.sort(us);
      completed = true;
      return us;
    } finally {
      for (int i = 0; i < reps; i++) {
        destroy(ctx, start[i], completed);
        destroy(ctx, end[i], completed);
      }
    }
  }

  /** The median of sorted values. */
  public static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  }

  private static CUevent create(CudaContext ctx) {
    CUevent e = new CUevent();
    ctx.check(JCudaDriver.cuEventCreate(e, 0), "cuEventCreate");
    return e;
  }

  /** Checked, except while another failure propagates: that one names the real problem. */
  private static void destroy(CudaContext ctx, CUevent e, boolean check) {
    if (e != null) {
      int rc = JCudaDriver.cuEventDestroy(e);
      if (check) {
        ctx.check(rc, "cuEventDestroy");
      }
    }
  }
}
