package io.decodefleet.coordinator.workload;

/**
 * How a trace is replayed.
 *
 * @param timeScale multiplies every arrival offset: 0.5 replays twice as fast, 2 half as fast, 0
 *     releases everything at once; finite and ≥ 0
 * @param maxRequests replay only the first this many requests by arrival time; 0 = all
 * @param hashBlockSize tokens per {@code hash_ids} block of a Mooncake trace
 */
public record TraceOptions(double timeScale, int maxRequests, int hashBlockSize) {
  /** The Mooncake trace's block size. */
  public static final int DEFAULT_HASH_BLOCK_SIZE = 512;
  /** The trace as recorded: real time, every request. */
  public static final TraceOptions AS_RECORDED = new TraceOptions(1.0, 0);

  public TraceOptions(double timeScale, int maxRequests) {
    this(timeScale, maxRequests, DEFAULT_HASH_BLOCK_SIZE);
  }

  public TraceOptions {
    if (hashBlockSize < 1) throw new IllegalArgumentException("trace hash block size must be >= 1, got " + hashBlockSize);
    if (!(timeScale >= 0) || !Double.isFinite(timeScale)) {
      throw new IllegalArgumentException("trace time scale must be a finite number >= 0, got " + timeScale);
    }
    if (maxRequests < 0) throw new IllegalArgumentException("trace max requests must be >= 0 (0 = all), got " + maxRequests);
  }
}
