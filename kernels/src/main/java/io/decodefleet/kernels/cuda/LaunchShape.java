package io.decodefleet.kernels.cuda;

/**
 * Grid, block and dynamic shared memory of one launch.
 *
 * @param gridX CTAs along x (may be 0: an empty launch, which the runtime skips)
 * @param threads threads per CTA (x only; every kernel here is one-dimensional inside a CTA)
 * @param sharedBytes dynamic shared memory per CTA in bytes
 */
public record LaunchShape(int gridX, int gridY, int gridZ, int threads, int sharedBytes) {

  public LaunchShape {
    ParamChecks.nonNegative(gridX, "gridX");
    ParamChecks.nonNegative(gridY, "gridY");
    ParamChecks.nonNegative(gridZ, "gridZ");
    ParamChecks.positive(threads, "threads");
    ParamChecks.nonNegative(sharedBytes, "sharedBytes");
  }

  /** {@code n} CTAs of {@code kernel}'s block size and shared memory. */
  public static LaunchShape grid1d(int n, Kernel kernel) {
    return new LaunchShape(n, 1, 1, kernel.threads(), kernel.sharedBytes());
  }

  /** True when the grid has no CTA: launching it would be an error, and there is nothing to do. */
  public boolean isEmpty() {
    return gridX == 0 || gridY == 0 || gridZ == 0;
  }

  public long ctas() {
    return (long) gridX * gridY * gridZ;
  }
}
