package io.decodefleet.agent.engine;

/**
 * The recompute check of one sequence.
 *
 * @param checked false when the sequence was not in the verified sample
 * @param maxRelError the largest |cached − recomputed|∞ / |recomputed|∞ over the checked steps
 * @param tolerance the relative tolerance applied (the backend's)
 */
public record VerifyResult(boolean checked, boolean passed, double maxRelError, int stepsChecked, String detail,
    double tolerance) {
  public static final VerifyResult NOT_CHECKED = new VerifyResult(false, true, 0.0, 0, "", 0.0);
}
