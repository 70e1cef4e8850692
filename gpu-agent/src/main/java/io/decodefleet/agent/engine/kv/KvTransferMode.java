package io.decodefleet.agent.engine.kv;

import java.util.Locale;

/**
 * How a KV transfer's device work is issued: {@link #EAGER} launches the pack (or unpack) kernel
 * and the NCCL send (or receive) of each chunk one by one; {@link #GRAPH} replays a CUDA graph
 * captured once per (direction, peer, page count), which removes the per-launch host cost.
 */
public enum KvTransferMode {
  EAGER("eager"),
  GRAPH("graph");

  private final String label;

  KvTransferMode(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  /** {@code eager} or {@code graph}; an IllegalArgumentException naming both otherwise. */
  public static KvTransferMode parse(String text) {
    String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
    for (KvTransferMode m : values()) {
      if (m.label.equals(t)) return m;
    }
    throw new IllegalArgumentException("KV transfer mode must be eager or graph, got '" + text + "'");
  }

  @Override
  public String toString() {
    return label;
  }
}
