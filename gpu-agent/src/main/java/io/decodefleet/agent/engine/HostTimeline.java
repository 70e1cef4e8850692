package io.decodefleet.agent.engine;

/**
 * A {@link FamilyTimeline} on the host clock ({@link System#nanoTime()}): where the work runs on the
 * calling thread (the CPU backend), the time between calls is the family's.
 */
public final class HostTimeline implements FamilyTimeline {
  private final long[] nanos = new long[KernelFamily.ALL.size()];
  private KernelFamily current;
  private long since;

  @Override
  public void begin(KernelFamily family) {
    long now = System.nanoTime();
    close(now);
    current = family;
    since = now;
  }

  @Override
  public void pause() {
    close(System.nanoTime());
    current = null;
  }

  private void close(long now) {
    if (current != null) nanos[current.ordinal()] += now - since;
  }

  /** Microseconds per family, indexed by ordinal; call after the last {@link #pause}. */
  public double[] micros() {
    double[] us = new double[nanos.length];
    for (int i = 0; i < us.length; i++) us[i] = nanos[i] / 1e3;
    return us;
  }
}
