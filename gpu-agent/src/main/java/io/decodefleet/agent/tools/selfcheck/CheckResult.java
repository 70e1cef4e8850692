package io.decodefleet.agent.tools.selfcheck;

/**
 * One row of the self-test table: a kernel on one shape, checked against its CPU reference and
 * timed.
 *
 * @param relError ‖out − ref‖ / ‖ref‖ over the checked outputs (NaN when an output held NaN or
 *     was not written, or when the check failed before comparing)
 * @param tolerance the largest relError that passes (0 for pure copies and integer outputs)
 * @param failure why it failed, or empty
 * @param medianUs median device time of one call (warm, CUDA events), or NaN if not timed
 * @param bytes the fewest bytes the call must move through device memory
 * @param flops floating-point operations of the call (0 for data movement)
 * @param floorUs bytes / measured device-to-device copy bandwidth
 */
public record CheckResult(
    String kernel,
    String shape,
    double relError,
    double tolerance,
    String failure,
    double medianUs,
    double bytes,
    double flops,
    double floorUs) {

  public boolean passed() {
    return failure.isEmpty() && !Double.isNaN(relError) && relError <= tolerance;
  }

  /** Achieved bandwidth in TB/s (10^12 bytes per second). */
  public double terabytesPerSecond() {
    return bytes / medianUs / 1e6;
  }

  /** Achieved rate in TFLOP/s. */
  public double teraflops() {
    return flops / medianUs / 1e6;
  }

  /** A row for a check that threw before it could compare. */
  public static CheckResult crashed(String kernel, String shape, Throwable e) {
    String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return new CheckResult(kernel, shape, Double.NaN, 0, msg, Double.NaN, 0, 0, Double.NaN);
  }
}
