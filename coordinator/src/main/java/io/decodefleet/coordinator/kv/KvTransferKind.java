package io.decodefleet.coordinator.kv;

/** Why a sequence's KV moves between agents: the kinds of one KV transfer. */
public enum KvTransferKind {
  /** Disaggregated layout: from the prefill agent to a decode agent after the first token. */
  HANDOFF,
  /** A drained agent's decoding sequence, moved to a live agent of the fleet instead of re-prefilled. */
  DRAIN_MIGRATION
}
