package io.decodefleet.coordinator.simulation;

import java.util.PriorityQueue;

/**
 * The simulation's virtual clock: actions due at a time, run earliest first, actions due at the same
 * time in the order they were scheduled (so messages between two parties keep their order, as Pekko
 * keeps it between two actors). Nothing sleeps: time jumps from one action to the next.
 */
final class EventQueue {
  private record Due(long at, long order, Runnable action) {}

  private final PriorityQueue<Due> due = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at)
      : Long.compare(a.order, b.order));
  private long scheduled;
  private long now;
  private long ran;

  /** Virtual time, ns since the run's start. */
  long now() {
    return now;
  }

  /** Runs {@code action} at {@code nanos} (never before now). */
  void at(long nanos, Runnable action) {
    due.add(new Due(Math.max(nanos, now), scheduled++, action));
  }

  /** Runs the next action; false when none is left. */
  boolean runNext() {
    Due next = due.poll();
    if (next == null) return false;
    now = next.at;
    ran++;
    next.action.run();
    return true;
  }

  /** Actions run so far. */
  long ran() {
    return ran;
  }
}
