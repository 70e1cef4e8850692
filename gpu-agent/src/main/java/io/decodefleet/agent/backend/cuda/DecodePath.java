package io.decodefleet.agent.backend.cuda;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How the CUDA backend runs a decode step, selectable so that the effect of CUDA graphs and of the
 * persistent decode-attention kernel can be measured apart. Steps that are not pure decode
 * (prefill chunks, mixed batches) always run as eager launches of the same attention variant.
 */
public enum DecodePath {
  /** One launch per kernel; split-K decode attention plus its combine kernel. */
  EAGER("eager", false, false),
  /** One CUDA graph per batch bucket; split-K decode attention plus combine inside the graph. */
  GRAPH("graph", true, false),
  /** One launch per kernel; the persistent decode-attention kernel (no combine launch). */
  PERSISTENT("persistent", false, true),
  /** One CUDA graph per batch bucket around the persistent decode-attention kernel: the default. */
  PERSISTENT_GRAPH("persistent+graph", true, true);

  private final String label;
  private final boolean graphs;
  private final boolean persistent;

  DecodePath(String label, boolean graphs, boolean persistent) {
    this.label = label;
    this.graphs = graphs;
    this.persistent = persistent;
  }

  /** The name on the command line and in reports, e.g. {@code persistent+graph}. */
  public String label() {
    return label;
  }

  /** Whether pure decode steps replay a captured graph. */
  public boolean usesGraphs() {
    return graphs;
  }

  /** Whether decode attention uses the persistent kernel rather than split + combine. */
  public boolean persistentAttention() {
    return persistent;
  }

  /** The path a step takes when it cannot replay a graph: the same attention, launched eagerly. */
  public DecodePath eager() {
    return persistent ? PERSISTENT : EAGER;
  }

  /** The path named {@code label} (case-insensitive), or an exception listing the known ones. */
  public static DecodePath parse(String label) {
    for (DecodePath p : values()) {
      if (p.label.equalsIgnoreCase(label.strip())) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown decode path '" + label + "' (known: " + labels() + ")");
  }

  /** Every label, comma-separated, in declaration order. */
  public static String labels() {
    return Arrays.stream(values()).map(DecodePath::label).collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return label.toLowerCase(Locale.ROOT);
  }
}
