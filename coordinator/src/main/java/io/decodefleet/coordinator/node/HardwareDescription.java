package io.decodefleet.coordinator.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** One line describing the machine the coordinator runs on (CPU model, cores, memory, JVM). */
public final class HardwareDescription {
  private HardwareDescription() {}

  public static String describe() {
    String cpu = System.getProperty("os.arch");
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse(cpu);
    } catch (IOException | RuntimeException e) {
      // not Linux: keep the architecture name
    }
    long memGiB = 0;
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      memGiB = Math.round(os.getTotalMemorySize() / (1024.0 * 1024 * 1024));
    }
    return cpu + ", " + Runtime.getRuntime().availableProcessors() + " logical cores, " + memGiB + " GiB RAM; "
        + System.getProperty("os.name") + " " + System.getProperty("os.version") + "; Java "
        + System.getProperty("java.version");
  }
}
