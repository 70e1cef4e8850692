package io.decodefleet.coordinator.kv;

import java.util.ArrayDeque;

/**
 * The transfers of a group (hand-offs and drain migrations), in completion order: a count of all
 * and the latest {@link #KEPT}.
 */
final class KvTransferLog {

  /** Records kept for percentiles: a long-running fleet does not grow without bound. */
  static final int KEPT = 100_000;

  private final ArrayDeque<KvTransferRecord> recent = new ArrayDeque<>();
  private long total;

  void add(long sequenceId, String from, String to, long bytes, double sendMillis, double receiveMillis,
      double handoffMillis, boolean recomputed, KvTransferKind kind) {
    recent.addLast(new KvTransferRecord(total++, sequenceId, from, to, bytes, sendMillis, receiveMillis,
        handoffMillis, recomputed, kind));
    if (recent.size() > KEPT) recent.removeFirst();
  }

  KvTransferHistory snapshot(String layout, String mode, String group) {
    return new KvTransferHistory(layout, mode, group, total, java.util.List.copyOf(recent));
  }
}
