package io.decodefleet.coordinator.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.coordinator.metrics.KvTransferSummary;
import java.util.List;
import org.junit.jupiter.api.Test;

/** report.json's "kv_transfers": what a run's hand-offs add up to. */
class KvTransferHistoryTest {

  private static KvTransferRecord record(long ordinal, long bytes, double send, double receive, double handoff,
      boolean recomputed) {
    return new KvTransferRecord(ordinal, 100 + ordinal, "agent-0", "agent-1", bytes, send, receive, handoff,
        recomputed, KvTransferKind.HANDOFF);
  }

  @Test
  void summaryTakesTheShorterSidePerTransferAndOnlyTheRunsOwn() {
    KvTransferHistory log = new KvTransferHistory("disagg=1:1", "eager", "ready", 5, List.of(
        record(0, 999, 9, 9, 9, false), // before the run
        record(1, 64L << 20, 0.5, 0.2, 3.0, false),
        record(2, 64L << 20, 0.2, 0.6, 5.0, false),
        record(3, 64L << 20, 0.4, 0.3, 4.0, true),
        record(4, 64L << 20, Double.NaN, 0.3, 6.0, false)));

    KvTransferSummary s = log.summary(1);

    assertEquals(4, s.count());
    assertEquals(4L * (64L << 20), s.bytes());
    assertEquals(64L << 20, s.meanBytes());
    assertEquals(0.25, s.meanMs(), 1e-12, "0.2, 0.2, 0.3, 0.3");
    assertEquals(0.25, s.p50Ms(), 1e-12);
    assertEquals(4.0 * (64L << 20) / 1.0 / 1e6, s.gbPerS(), 1e-6, "bytes over summed time");
    assertEquals(4.5, s.meanHandoffMs(), 1e-12);
    assertEquals(1L, s.recomputed());
    assertEquals((0.5 + 0.2 + 0.4) / 3, s.meanSendMs(), 1e-12, "NaN sides are left out");
    assertEquals("ready", s.group());
  }

  @Test
  void summaryCountsDrainMigrationsApartFromHandoffs() {
    KvTransferHistory log = new KvTransferHistory("disagg=1:2", "eager", "ready", 3, List.of(
        record(0, 100, 0.5, 0.5, 2.0, false),
        new KvTransferRecord(1, 7, "agent-1", "agent-2", 300, 0.2, 0.4, 12.0, false, KvTransferKind.DRAIN_MIGRATION),
        new KvTransferRecord(2, 8, "agent-1", "agent-2", 500, 0.6, 0.8, 14.0, true, KvTransferKind.DRAIN_MIGRATION)));

    KvTransferSummary s = log.summary(0);

    assertEquals(3, s.count());
    assertEquals(1L, s.handoffs());
    assertEquals(1L, s.migrations(), "the recomputed one was re-prefilled on arrival");
    assertEquals(800L, s.migrationBytes());
    assertEquals(0.4, s.meanMigrationMs(), 1e-12, "0.2 and 0.6");
    assertEquals(13.0, s.meanMigrationWaitMs(), 1e-12);
  }

  @Test
  void runWithoutTransfersSaysSoWithoutNaN() {
    KvTransferSummary s = new KvTransferHistory("disagg=1:1", "graph", "broken: agent agent-1 left the cluster", 3,
        List.of()).summary(3);
    assertEquals(0, s.count());
    assertEquals(0.0, s.meanMs(), 0.0);
    assertNull(s.gbPerS());
    assertTrue(String.valueOf(s.group()).startsWith("broken"));
  }
}
