package io.decodefleet.coordinator.workload;

/**
 * How a trace is replayed.
 *
 * @param timeScale multiplies every arrival offset: 0.5 replays twice as fast, 2 half as fast, 0
 *     releases everything at once; finite and ≥ 0
 * @param maxRequests replay only the first this many requests by arrival time; 0 = all
 */
public record TraceOptions(double timeScale, int maxRequests) {
  /** The trace as recorded: real time, every request. */
  public static final TraceOptions AS_RECORDED = new TraceOptions(1.0, 0);

  public TraceOptions {
    if (!(timeScale >= 0) || !Double.isFinite(timeScale)) {
      throw new IllegalArgumentException("trace time scale must be a finite number >= 0, got " + timeScale);
    }
    if (maxRequests < 0) throw new IllegalArgumentException("trace max requests must be >= 0 (0 = all), got " + maxRequests);
  }
}
