package io.decodefleet.coordinator.simulation;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU that other processes took from this host while something ran in this JVM: the busy time of
 * every core ({@code /proc/stat}) less this process's own CPU, over the wall time. A real run on a
 * shared machine had only the rest of the cores, while a simulated host has every core of its
 * calibration, so a comparison of the two says how busy the host was. Linux only; elsewhere unknown.
 */
public final class HostCpuLoad {
  /** /proc/stat counts in USER_HZ ticks, 100 a second on every Linux architecture the JVM runs on. */
  private static final double TICKS_PER_SECOND = 100;
  private static final Path PROC_STAT = Path.of("/proc/stat");

  private final com.sun.management.OperatingSystemMXBean os =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private final long startNanos = System.nanoTime();
  private final long startProcessCpu = os.getProcessCpuTime();
  private final long startBusyTicks = busyTicks();

  /** Cores' worth of CPU other processes kept busy since this was made; null where it cannot be known. */
  public Double othersCores() {
    long busy = busyTicks();
    if (busy < 0 || startBusyTicks < 0) return null;
    double wall = (System.nanoTime() - startNanos) / 1e9;
    double hostBusy = (busy - startBusyTicks) / TICKS_PER_SECOND;
    double ours = (os.getProcessCpuTime() - startProcessCpu) / 1e9;
    return wall > 0 ? Math.max(0, hostBusy - ours) / wall : null;
  }

  /** Every core's busy ticks so far (all but idle and iowait), or -1 without /proc/stat. */
  private static long busyTicks() {
    try {
      String line = Files.readAllLines(PROC_STAT).get(0);
      String[] f = line.trim().split("\\s+");
      if (!f[0].equals("cpu") || f.length < 6) return -1;
      long busy = 0;
      // user nice system idle iowait irq softirq steal (guest time is already in user and nice)
      for (int i = 1; i < Math.min(f.length, 9); i++) {
        if (i != 4 && i != 5) busy += Long.parseLong(f[i]);
      }
      return busy;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
