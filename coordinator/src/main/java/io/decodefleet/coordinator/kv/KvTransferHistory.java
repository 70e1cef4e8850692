package io.decodefleet.coordinator.kv;

import io.decodefleet.coordinator.metrics.KvTransferSummary;
import io.decodefleet.coordinator.metrics.LatencyStats;
import java.util.List;

/**
 * The KV transfers of a fleet's transfer group so far (disaggregated hand-offs and migrations of
 * drained agents' sequences), as a cluster snapshot carries them.
 *
 * @param layout e.g. "disagg=1:1", or "dp" (a data-parallel fleet's group moves drained sequences only)
 * @param mode "eager" or "graph"
 * @param group "forming", "ready", or "broken: <why>" (hand-offs and migrations then stop: the fleet
 *     places data-parallel and re-prefills drained sequences)
 * @param total transfers recorded since the fleet was loaded
 * @param recent the latest of them (at most {@link KvTransferLog#KEPT}), oldest first
 */
public record KvTransferHistory(String layout, String mode, String group, long total, List<KvTransferRecord> recent) {

  public KvTransferHistory {
    recent = List.copyOf(recent);
  }

  /**
   * report.json's "kv_transfers" over the hand-offs from ordinal {@code from} on: count, bytes,
   * time (mean, p50, p99, ms) and bandwidth of the transfers; each side's mean device time; the
   * hand-off latency on the coordinator's clock; re-prefills for want of KV blocks; and of those,
   * the hand-offs and the migrations of drained agents' sequences apart.
   */
  public KvTransferSummary summary(long from) {
    List<KvTransferRecord> runs = recent.stream().filter(r -> r.ordinal() >= from).toList();
    double[] ms = runs.stream().mapToDouble(KvTransferRecord::millis).filter(Double::isFinite).toArray();
    double[] handoff = runs.stream().mapToDouble(KvTransferRecord::handoffMillis).filter(Double::isFinite).toArray();
    long bytes = runs.stream().mapToLong(KvTransferRecord::bytes).sum();
    double totalMs = 0;
    long timedBytes = 0;
    for (KvTransferRecord r : runs) {
      if (Double.isFinite(r.millis())) {
        totalMs += r.millis();
        timedBytes += r.bytes();
      }
    }
    LatencyStats t = LatencyStats.of(ms);
    LatencyStats h = LatencyStats.of(handoff);
    List<KvTransferRecord> migrations = runs.stream().filter(KvTransferRecord::migration).toList();
    return new KvTransferSummary(layout, mode, group, runs.size(), bytes, runs.isEmpty() ? 0 : bytes / runs.size(),
        t.mean(), t.median(), t.p99(), t.max(), totalMs > 0 ? timedBytes / totalMs / 1e6 : null,
        mean(runs.stream().mapToDouble(KvTransferRecord::sendMillis)),
        mean(runs.stream().mapToDouble(KvTransferRecord::receiveMillis)), h.mean(), h.median(), h.p99(),
        runs.stream().filter(KvTransferRecord::recomputed).count(), (long) (runs.size() - migrations.size()),
        // Moved with their KV and decoded from it on arrival (a recomputed one re-prefilled there).
        migrations.stream().filter(r -> !r.recomputed()).count(),
        migrations.stream().mapToLong(KvTransferRecord::bytes).sum(),
        mean(migrations.stream().mapToDouble(KvTransferRecord::millis)),
        mean(migrations.stream().mapToDouble(KvTransferRecord::handoffMillis)),
        "per transfer the shorter of the sender's (pack+send) and receiver's (receive+unpack) CUDA-event"
            + " times; hand-off is KvReady (a migration: the drain's report) to the receiver's report on the"
            + " coordinator's clock");
  }

  private static Double mean(java.util.stream.DoubleStream values) {
    java.util.OptionalDouble m = values.filter(Double::isFinite).average();
    return m.isPresent() ? m.getAsDouble() : null;
  }
}
