package io.decodefleet.kernels.reference;

/**
 * FP8 e4m3fn ({@code torch.float8_e4m3fn}, CUDA's {@code __nv_fp8_e4m3}): 1 sign bit, 4 exponent
 * bits (bias 7), 3 mantissa bits, no infinities; {@code S.1111.111} (0x7f, 0xff) is NaN, so the
 * largest finite magnitude is 1.75 * 2^8 = 448 and the smallest subnormal 2^-9.
 *
 * <p>Encoding rounds to nearest, ties to even, and saturates: every finite or infinite magnitude at
 * or above 448 becomes ±448, as CUDA's {@code __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3)}
 * does and as vLLM clamps before its casts (a plain torch cast would turn them into NaN instead).
 * NaN encodes to 0x7f. A scaled tensor holds {@code real = decode(code) * scale}.
 */
public final class Fp8E4m3 {

  /** Largest finite magnitude. */
  public static final float MAX = 448f;
  /** The code of +448; -448 is {@code 0xfe}. */
  private static final int MAX_CODE = 0x7e;
  private static final int NAN_CODE = 0x7f;
  private static final float[] DECODED = new float[256];

  static {
    for (int c = 0; c < 256; c++) DECODED[c] = decodeSlow(c);
  }

  private Fp8E4m3() {}

  /** The float32 value of an e4m3fn code (exact: every e4m3 value is a float32). */
  public static float decode(byte code) {
    return DECODED[code & 0xff];
  }

  private static float decodeSlow(int c) {
    int sign = (c & 0x80) != 0 ? -1 : 1;
    int exp = (c >>> 3) & 0xf;
    int mant = c & 0x7;
    if (exp == 0xf && mant == 0x7) return Float.NaN;
    float magnitude = exp == 0 ? mant * 0x1p-9f // subnormal: mant/8 * 2^-6
        : (1f + mant / 8f) * (float) Math.scalb(1.0, exp - 7);
    return sign * magnitude;
  }

  /** The nearest e4m3fn code to {@code x} (ties to even), ±448 for magnitudes at or above 448. */
  public static byte encode(float x) {
    if (Float.isNaN(x)) return (byte) NAN_CODE;
    int sign = (Float.floatToRawIntBits(x) >>> 24) & 0x80;
    double a = Math.abs((double) x);
    if (a >= MAX) return (byte) (sign | MAX_CODE);
    int code;
    if (a < 0x1p-6) {
      // Subnormals step by 2^-9; 8 steps reach the smallest normal, whose code is 8 (exp 1, mant 0),
      // so the step count is the code on both sides of the boundary.
      code = (int) Math.rint(a * 0x1p9);
    } else {
      int e = Math.getExponent(a); // -6..8
      int steps = (int) Math.rint(Math.scalb(a, 3 - e)); // 8..16: the mantissa in eighths, rounded
      // 16 steps carry into the next exponent; below 448 the largest result is 448 itself (0x7e).
      code = ((e + 7) << 3) + (steps - 8);
    }
    return (byte) (sign | code);
  }

  /** {@code decode(encode(x))}: the value an e4m3fn tensor would hold. */
  public static float round(float x) {
    return decode(encode(x));
  }

  /**
   * The per-tensor scale that maps {@code values}' largest magnitude onto 448 (vLLM's dynamic FP8
   * quantization); 1 for an all-zero tensor, so that zero stays representable.
   *
   * @throws IllegalArgumentException when a value is not finite: no scale represents it
   */
  public static float scaleFor(float[] values) {
    float amax = 0f;
    for (int i = 0; i < values.length; i++) {
      float v = values[i];
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException("element " + i + " is " + v + ": cannot quantize to FP8");
      }
      amax = Math.max(amax, Math.abs(v));
    }
    return rowScale(amax);
  }

  /**
   * The scale that maps a largest magnitude {@code amax} onto 448: {@code amax / 448}, 1 for zero (so that zero
   * stays representable); the device's fp8_row_scale.
   */
  public static float rowScale(float amax) {
    return amax == 0f ? 1f : amax / MAX;
  }

  /** Quantizes in place: each element becomes {@code round(v / scale) * scale}. */
  public static void quantizeInPlace(float[] values, float scale) {
    checkScale(scale);
    for (int i = 0; i < values.length; i++) {
      values[i] = decode(encode(values[i] / scale)) * scale;
    }
  }

  /**
   * Dynamic per-token quantization of activations ({@code --quantization fp8-dynamic}), in place: each of
   * {@code rows} rows of {@code cols} values (rows {@code stride} apart) becomes {@code decode(encode(v / s)) * s}
   * with {@code s} its own largest magnitude over 448 (1 for a row of zeros), what the device's
   * df_fp8_quantize_rows codes and scales stand for.
   *
   * @throws IllegalArgumentException when a value is not finite
   */
  public static void quantizeRows(float[] values, int rows, int cols, int stride) {
    for (int r = 0; r < rows; r++) {
      int base = r * stride;
      float amax = 0f;
      for (int i = base; i < base + cols; i++) {
        float v = values[i];
        if (!Float.isFinite(v)) {
          throw new IllegalArgumentException("row " + r + ", element " + (i - base) + " is " + v
              + ": cannot quantize to FP8");
        }
        amax = Math.max(amax, Math.abs(v));
      }
      float scale = rowScale(amax);
      for (int i = base; i < base + cols; i++) values[i] = decode(encode(values[i] / scale)) * scale;
    }
  }

  /** Codes of {@code values[from, from + count) / scale} into {@code out[at, at + count)}. */
  public static void encode(float[] values, int from, int count, float scale, byte[] out, int at) {
    checkScale(scale);
    for (int i = 0; i < count; i++) out[at + i] = encode(values[from + i] / scale);
  }

  /** {@code out[at + i] = decode(codes[from + i]) * scale} for i in [0, count). */
  public static void decode(byte[] codes, int from, int count, float scale, float[] out, int at) {
    for (int i = 0; i < count; i++) out[at + i] = DECODED[codes[from + i] & 0xff] * scale;
  }

  private static void checkScale(float scale) {
    if (!(scale > 0f) || !Float.isFinite(scale)) {
      throw new IllegalArgumentException("FP8 scale must be finite and > 0 but is " + scale);
    }
  }
}
