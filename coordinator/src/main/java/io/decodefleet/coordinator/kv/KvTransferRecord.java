package io.decodefleet.coordinator.kv;

/**
 * One KV transfer between agents, as both sides reported it: a hand-off from a prefill agent to a
 * decode agent, or a migration of a decoding sequence off a drained agent ({@code kind}).
 *
 * @param ordinal the group's count of hand-offs before this one (runs take those from their start on)
 * @param bytes bytes that crossed
 * @param sendMillis the sender's device time: events around pack + send (NaN if it did not report)
 * @param receiveMillis the receiver's device time: events around receive + unpack
 * @param handoffMillis coordinator clock, from the sender's KvReady to the receiver's report: what
 *     the sequence waited between its first and second token, beyond decoding
 * @param recomputed the receiver had no free KV blocks and re-prefilled the sequence instead
 * @param kind a hand-off, or a drained agent's sequence moved with its KV (handoffMillis then runs from
 *     the coordinator's decision to move it)
 */
public record KvTransferRecord(long ordinal, long sequenceId, String fromAgent, String toAgent, long bytes,
    double sendMillis, double receiveMillis, double handoffMillis, boolean recomputed, KvTransferKind kind) {

  /** Whether this moved a drained agent's sequence (not a hand-off). */
  public boolean migration() {
    return kind == KvTransferKind.DRAIN_MIGRATION;
  }

  /**
   * The transfer's time: the shorter of the two sides' event times. Each side's events start when
   * it posts its half; the side that posts first also times its wait for the other, so the later
   * side's time is the transfer itself (plus its own pack or unpack).
   */
  public double millis() {
    if (Double.isNaN(sendMillis)) return receiveMillis;
    if (Double.isNaN(receiveMillis)) return sendMillis;
    return Math.min(sendMillis, receiveMillis);
  }

  /** Bytes per second over {@link #millis}, in GB/s (1e9 bytes). */
  public double gbPerSecond() {
    double ms = millis();
    return ms > 0 ? bytes / ms / 1e6 : Double.NaN;
  }
}
