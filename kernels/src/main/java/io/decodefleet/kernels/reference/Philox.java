package io.decodefleet.kernels.reference;

/**
 * Philox4x32-10, the counter-based random number generator of Salmon et al., "Parallel random
 * numbers: as easy as 1, 2, 3" (SC 2011), as Random123 defines it: four 32-bit counter words and
 * two 32-bit key words in, four 32-bit words out, ten rounds. Token sampling draws from it because
 * its output is a pure function of (counter, key): a GPU thread computes the number of any (token,
 * position) directly, with no generator state to carry between steps or devices.
 *
 * <p>The CUDA kernel (sample.cu) computes the same function; {@code PhiloxTest} pins it to
 * Random123's known-answer vectors.
 */
public final class Philox {

  /** Round multipliers and Weyl key increments (Random123's PHILOX_M4x32_0/1, PHILOX_W32_0/1). */
  private static final long M0 = 0xD2511F53L;
  private static final long M1 = 0xCD9E8D57L;
  private static final int W0 = 0x9E3779B9;
  private static final int W1 = 0xBB67AE85;
  private static final int ROUNDS = 10;

  private Philox() {}

  /**
   * The four output words for counter (c0, c1, c2, c3) and key (k0, k1).
   *
   * @return (4) int32 words, as unsigned 32-bit values
   */
  public static int[] philox4x32(int c0, int c1, int c2, int c3, int k0, int k1) {
    for (int r = 0; r < ROUNDS; r++) {
      if (r > 0) {
        k0 += W0;
        k1 += W1;
      }
      long p0 = M0 * (c0 & 0xffffffffL);
      long p1 = M1 * (c2 & 0xffffffffL);
      int hi0 = (int) (p0 >>> 32);
      int lo0 = (int) p0;
      int hi1 = (int) (p1 >>> 32);
      int lo1 = (int) p1;
      c0 = hi1 ^ c1 ^ k0;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ k1;
      c3 = lo0;
    }
    return new int[] {c0, c1, c2, c3};
  }

  /** The first output word: what token sampling uses. */
  public static int first(int c0, int c1, int c2, int c3, int k0, int k1) {
    return philox4x32(c0, c1, c2, c3, k0, k1)[0];
  }
}
