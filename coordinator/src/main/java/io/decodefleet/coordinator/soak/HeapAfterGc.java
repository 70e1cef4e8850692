package io.decodefleet.coordinator.soak;

import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The live heap of a coordinator process, read from its own {@code /metrics} without attaching to
 * the JVM (the distribution's runtime has no {@code jcmd}): the soak starts coordinators with G1's
 * periodic collection as a full GC ({@link #JVM_OPTIONS}), so a coordinator left idle for {@link
 * #PERIOD_MS} collects its whole heap. Once the count of full collections ({@code G1 Old Generation})
 * grows, the heap pools' usage after collection ({@code jvm_memory_pool_collection_used_bytes}; after
 * a full GC that is the old generation alone) is the heap that survived it. The figure is the median
 * over {@link #READINGS} successive full collections.
 */
final class HeapAfterGc {
  static final long PERIOD_MS = 1000;
  static final List<String> JVM_OPTIONS = List.of("-XX:+UseG1GC", "-XX:G1PeriodicGCInterval=" + PERIOD_MS,
      "-XX:-G1PeriodicGCInvokesConcurrent");
  static final int READINGS = 3;
  static final String FULL_GCS = "jvm_gc_collection_seconds_count{gc=\"G1 Old Generation\"}";
  static final String AFTER_GC = "jvm_memory_pool_collection_used_bytes";

  private HeapAfterGc() {}

  /**
   * Watches the coordinator whose HTTP API is on {@code port} until {@link #READINGS} full collections
   * were seen, at most {@code timeout}; empty when they were not (a busy process, or not G1).
   */
  static OptionalLong measure(HttpClient http, int port, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    double lastCount = -1;
    List<Double> readings = new ArrayList<>();
    while (readings.size() < READINGS && System.nanoTime() < deadline) {
      try {
        MetricsScrape s = MetricsScrape.of(http, port);
        OptionalDouble count = s.sample(FULL_GCS);
        if (count.isEmpty()) return OptionalLong.empty();
        if (lastCount >= 0 && count.getAsDouble() > lastCount) readings.add(s.sum(AFTER_GC));
        lastCount = count.getAsDouble();
      } catch (IOException e) {
        // not answering right now: try again until the deadline
      }
      Thread.sleep(PERIOD_MS / 4);
    }
    if (readings.size() < READINGS) return OptionalLong.empty();
    readings.sort(null);
    return OptionalLong.of(Math.round(readings.get(READINGS / 2)));
  }
}
