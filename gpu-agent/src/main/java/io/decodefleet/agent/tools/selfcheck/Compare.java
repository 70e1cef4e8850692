package io.decodefleet.agent.tools.selfcheck;

/** Normwise error between a device output and its CPU reference, in double. */
final class Compare {

  /** bf16 storage with float32 accumulation (METHOD: bf16 operands land between 1e-3 and 1e-2). */
  static final double BF16 = 1e-2;
  /** float32 outputs of bf16 inputs: only the order of the float32 additions differs. */
  static final double F32_ACCUMULATION = 1e-4;
  /** Copies and integer results must match exactly. */
  static final double EXACT = 0.0;

  private Compare() {}

  /**
   * ‖out − ref‖ / ‖ref‖ over {@code [from, to)}; NaN if any output element there is NaN or
   * infinite while its reference is finite (an unwritten, poisoned element shows up this way).
   */
  static double relError(float[] out, float[] ref, int from, int to) {
    double num = 0.0;
    double den = 0.0;
    for (int i = from; i < to; i++) {
      double r = ref[i];
      double o = out[i];
      if (!Double.isFinite(o) && Double.isFinite(r)) {
        return Double.NaN;
      }
      if (Double.isNaN(r) && Double.isNaN(o)) {
        continue; // both NaN: a slot that is NaN on purpose and was left alone
      }
      double d = o - r;
      num += d * d;
      den += r * r;
    }
    return den == 0.0 ? Math.sqrt(num) : Math.sqrt(num / den);
  }

  static double relError(float[] out, float[] ref) {
    if (out.length != ref.length) {
      throw new IllegalArgumentException(
          "output has " + out.length + " elements, reference " + ref.length);
    }
    return relError(out, ref, 0, out.length);
  }

  /** The larger error, NaN winning: NaN never passes. */
  static double worst(double a, double b) {
    return Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
  }
}
