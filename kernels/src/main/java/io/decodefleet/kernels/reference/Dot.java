package io.decodefleet.kernels.reference;

/**
 * The float32 dot product every reference kernel uses, so that all of them share one accumulation
 * order.
 */
final class Dot {

  private Dot() {}

  /**
   * Returns {@code sum_p a[aOff + p] * b[bOff + p]} for {@code p < len}.
   *
   * <p>Eight independent accumulators hide the latency of the floating-point adder (a single
   * running sum would make every add wait for the previous one). The accumulation order depends
   * only on {@code len}: lanes {@code p % 8}, summed pairwise, then the tail in order. Callers rely
   * on that for bit-reproducibility, so do not change it without updating {@link Matmul}'s
   * guarantee.
   */
  static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
    float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
    int p = 0;
    for (; p + 7 < len; p += 8) {
      int i = aOff + p;
      int j = bOff + p;
      s0 += a[i] * b[j];
      s1 += a[i + 1] * b[j + 1];
      s2 += a[i + 2] * b[j + 2];
      s3 += a[i + 3] * b[j + 3];
      s4 += a[i + 4] * b[j + 4];
      s5 += a[i + 5] * b[j + 5];
      s6 += a[i + 6] * b[j + 6];
      s7 += a[i + 7] * b[j + 7];
    }
    float s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    for (; p < len; p++) {
      s += a[aOff + p] * b[bOff + p];
    }
    return s;
  }
}
