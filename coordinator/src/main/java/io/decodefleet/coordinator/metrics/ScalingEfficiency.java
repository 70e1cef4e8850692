package io.decodefleet.coordinator.metrics;

/**
 * How close a sweep point comes to linear scaling of output-token throughput from the sweep's
 * base point (world size 1, or the smallest world size in the sweep when 1 was not run):
 * {@code thr(N) * n0 / (N * thr(n0))}. 1.0 is perfect scaling, 0.5 means each GPU delivers half
 * of what a GPU delivered at the base; the base point itself is 1.0 by definition.
 */
public final class ScalingEfficiency {

  private ScalingEfficiency() {}

  /**
   * The efficiency of {@code throughput} (tokens/s) at {@code worldSize} relative to {@code
   * baseThroughput} at {@code baseWorldSize}; NaN when the base throughput is not a positive
   * number (nothing to scale from) or {@code throughput} is not finite.
   */
  public static double relativeTo(
      int baseWorldSize, double baseThroughput, int worldSize, double throughput) {
    if (!(baseThroughput > 0) || !Double.isFinite(baseThroughput) || !Double.isFinite(throughput)) {
      return Double.NaN;
    }
    if (worldSize == baseWorldSize) {
      return 1.0;
    }
    return throughput * baseWorldSize / (worldSize * baseThroughput);
  }
}
