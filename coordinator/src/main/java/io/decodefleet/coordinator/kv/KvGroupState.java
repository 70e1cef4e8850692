package io.decodefleet.coordinator.kv;

/**
 * Where a KV-transfer group stands, for the disaggregated layout's group ({@link DisaggregatedKvGroup}) and
 * a data-parallel fleet's ({@link DataParallelKvGroup}): waiting for its id, joining, ready, broken.
 */
enum KvGroupState {
  AWAITING_ID, JOINING, READY, BROKEN;

  /** Neither ready nor broken yet. */
  boolean forming() {
    return this == AWAITING_ID || this == JOINING;
  }

  /** "ready", "broken: {@code brokenReason}" or "forming", as cluster snapshots show it. */
  String describe(String brokenReason) {
    return switch (this) {
      case READY -> "ready";
      case BROKEN -> "broken: " + brokenReason;
      default -> "forming";
    };
  }
}
