package io.decodefleet.agent.engine.kv;

/** How one side of a KV transfer ended. */
public enum KvTransferOutcome {
  /** Moved; on the receiver the sequence decodes from the received KV. */
  DONE,
  /** The receiver had no free KV blocks: the data was discarded and the sequence re-prefills there. */
  RECOMPUTE,
  /** Moved or released, but the sequence is no longer served here (drained, or told to drop it). */
  DISCARDED,
  /** The transfer failed; the group is unusable. */
  FAILED
}
