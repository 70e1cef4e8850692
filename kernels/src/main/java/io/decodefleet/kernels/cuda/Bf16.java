package io.decodefleet.kernels.cuda;

/**
 * bfloat16 on the host: the upper 16 bits of a float32, rounded to nearest-even, as
 * {@code __float2bfloat16_rn} does on the device.
 */
public final class Bf16 {

  private Bf16() {}

  /** Rounds to the nearest bf16 (ties to even); NaN stays a quiet NaN, infinities stay. */
  public static short fromFloat(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  public static float toFloat(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }

  /** {@code toFloat(fromFloat(f))}: the value a bf16 tensor would hold. */
  public static float round(float f) {
    return toFloat(fromFloat(f));
  }

  /** Rounds every element to bf16 in place, so a CPU reference sees what the GPU sees. */
  public static void roundInPlace(float[] values) {
    for (int i = 0; i < values.length; i++) {
      values[i] = round(values[i]);
    }
  }

  public static short[] fromFloats(float[] values) {
    short[] out = new short[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = fromFloat(values[i]);
    }
    return out;
  }

  public static float[] toFloats(short[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = toFloat(values[i]);
    }
    return out;
  }
}
