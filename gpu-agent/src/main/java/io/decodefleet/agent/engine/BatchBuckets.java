package io.decodefleet.agent.engine;

/**
 * The decode batch sizes a step is padded up to: 1, 2, 4, 8, 16, 24, 32, then steps of 16. One CUDA
 * graph is captured per bucket; the same buckets group step times in the reports on every backend.
 */
public final class BatchBuckets {
  private BatchBuckets() {}

  /** The smallest bucket that holds {@code batch} sequences (batch ≥ 1). */
  public static int bucketOf(int batch) {
    if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
    if (batch <= 2) return batch;
    if (batch <= 4) return 4;
    if (batch <= 8) return 8;
    if (batch <= 16) return 16;
    if (batch <= 24) return 24;
    if (batch <= 32) return 32;
    return (batch + 15) / 16 * 16;
  }
}
