package io.decodefleet.coordinator.simulation;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;

/**
 * This JVM's CPU time, sampled every 50 ms while something runs in it: the whole process's (every
 * thread, garbage collection and the JIT included) and its engine threads' (named "engine-…"), so a run
 * of the embedded cluster can be split into the engines' work and everything else's.
 */
public final class JvmCpuSampler implements AutoCloseable {

  /** One sample: ns since the sampler started; process and engine-thread CPU, ns. */
  public record Sample(long nanos, long processCpu, long engineCpu) {}

  /** The CPU of a window: the process's and the engine threads', seconds. */
  public record Split(double processSeconds, double engineSeconds, double wallSeconds) {
    /** CPU of everything but the engines per second of engine CPU. */
    public double otherPerEngine() {
      return (processSeconds - engineSeconds) / engineSeconds;
    }
  }

  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private final com.sun.management.OperatingSystemMXBean os =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private final List<Sample> samples = new ArrayList<>();
  private final long start = System.nanoTime();
  private final Thread thread;
  private volatile boolean stopped;

  public JvmCpuSampler() {
    thread = new Thread(this::sample, "cpu-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  private void sample() {
    while (!stopped) {
      long engine = 0;
      for (Thread t : Thread.getAllStackTraces().keySet()) {
        if (t.getName().startsWith("engine-")) engine += Math.max(0, threads.getThreadCpuTime(t.getId()));
      }
      synchronized (samples) {
        samples.add(new Sample(System.nanoTime() - start, os.getProcessCpuTime(), engine));
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /**
   * The window in which the engine threads were busy — from the first sample whose engine CPU grew by
   * more than a tenth of the interval to the last — and the CPU spent in it. A session's engines stop
   * (and their threads end) with it, so call this once the run is over and before another starts.
   *
   * @throws IllegalStateException when the engines were never busy
   */
  public Split busyWindow() {
    List<Sample> s;
    synchronized (samples) {
      s = List.copyOf(samples);
    }
    int first = -1;
    int last = -1;
    for (int i = 1; i < s.size(); i++) {
      long grew = s.get(i).engineCpu() - s.get(i - 1).engineCpu();
      if (grew > (s.get(i).nanos() - s.get(i - 1).nanos()) / 10) {
        if (first < 0) first = i - 1;
        last = i;
      }
    }
    if (first < 0) throw new IllegalStateException("the engine threads were never busy");
    Sample a = s.get(first);
    Sample b = s.get(last);
    return new Split((b.processCpu() - a.processCpu()) / 1e9, (b.engineCpu() - a.engineCpu()) / 1e9,
        (b.nanos() - a.nanos()) / 1e9);
  }

  @Override
  public void close() {
    stopped = true;
    thread.interrupt();
  }
}
