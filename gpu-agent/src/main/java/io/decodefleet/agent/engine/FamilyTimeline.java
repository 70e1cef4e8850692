package io.decodefleet.agent.engine;

/**
 * Where a profiled step's time goes: a backend calls {@link #begin} as each kernel family's work
 * starts (on a GPU: as its launches are enqueued), and {@link #pause} where the work that follows
 * belongs to no family (an output copy); each interval runs from one call to the next. The host
 * clock ({@link HostTimeline}) and CUDA events on the step's stream implement it.
 */
public interface FamilyTimeline {

  /** The work from here on, until the next call, is {@code family}'s. */
  void begin(KernelFamily family);

  /** The work from here on, until the next {@link #begin}, is no family's (and not counted). */
  void pause();
}
