package io.decodefleet.agent.backend.cuda;

import java.util.List;

/**
 * Where the host's time of a graph-replayed decode step goes, from the step's call to the graph's
 * launch returning: the step plan, the decode-attention work list, packing the inputs into the
 * pinned staging buffer, enqueuing their copy (and the start event), and the graph launch. The
 * engine reports the sum as a step's host time; {@code bench step} prints the parts, so a host time
 * over its target says which part to work on. Stamps are {@link System#nanoTime()}; one step at a time.
 */
public final class HostParts {

  /** The parts, in step order. */
  public static final List<String> NAMES = List.of("plan", "attention plan", "pack", "copy", "launch");

  private final long[] stamps = new long[NAMES.size() + 1];
  private boolean complete;

  /** The step's call: every later stamp counts from here. */
  void start() {
    stamps[0] = System.nanoTime();
    complete = false;
  }

  /** The end of part {@code part} (an index of {@link #NAMES}). */
  void end(int part) {
    stamps[part + 1] = System.nanoTime();
    if (part == NAMES.size() - 1) complete = true;
  }

  /** Microseconds of each part of the last graph-replayed step; null when the last step was not one. */
  public double[] micros() {
    if (!complete) return null;
    double[] us = new double[NAMES.size()];
    for (int i = 0; i < us.length; i++) us[i] = (stamps[i + 1] - stamps[i]) / 1e3;
    return us;
  }
}
