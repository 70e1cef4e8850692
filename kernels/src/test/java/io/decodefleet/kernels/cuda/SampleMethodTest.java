package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.kernels.reference.Argmax;
import io.decodefleet.kernels.reference.TokenSampling;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * sample.cu's method restated on the host, a whole row at a time with the kernel's arithmetic: the
 * radix select over 16-bit bf16 keys (two 8-bit passes), the warp's bin choice (lane sums, a suffix
 * scan, the highest lane that reaches the target), masses in 2^-32 fixed point, and no scoring below
 * m − 20.5. Its tokens must be {@link TokenSampling}'s. This checks the method's claims where no GPU
 * is at hand: selecting on l instead of z = l / T is exact, the fixed point moves a top-p cut only
 * at a float near tie, the scoring cut never drops a winner. The CUDA side (barriers, shuffles,
 * atomics) is the self-test's to check on a device.
 */
class SampleMethodTest {

  /** The kernel's token for one row of bf16 values. */
  static int sampleLikeTheKernel(float[] l, float t, float topP, int topK, long seed, int position) {
    if (!(t > 0f) || topK == 1) {
      return Argmax.argmax(l, 0, l.length);
    }
    float lMax = Float.NEGATIVE_INFINITY;
    for (float x : l) {
      lMax = x > lMax ? x : lMax;
    }
    float m = lMax / t;
    float tau = Float.NEGATIVE_INFINITY;
    if (topK > 0 && topK < l.length) {
      int key = select(l, t, m, tau, topP, topK, false);
      tau = key != 0 ? keyValue(key) / t : tau;
    }
    if (topP < 1f && Float.isFinite(m)) {
      int key = select(l, t, m, tau, topP, 0, true);
      tau = key != 0 ? keyValue(key) / t : tau;
    }
    float lowest = Math.abs(m) < 1048576f ? Math.max(tau, m - 20.5f) : tau;
    float best = Float.NEGATIVE_INFINITY;
    int at = Integer.MAX_VALUE;
    for (int i = 0; i < l.length; i++) {
      float z = l[i] / t;
      if (z >= lowest) {
        float score = z + TokenSampling.gumbel(seed, i, position);
        if (score > best || (score == best && i < at)) {
          best = score;
          at = i;
        }
      }
    }
    return at == Integer.MAX_VALUE ? -1 : at;
  }

  /** bf16_order_key of the bf16 value x. */
  static int key(float x) {
    int bits = Float.floatToRawIntBits(x) >>> 16;
    if ((bits & 0x7fff) > 0x7f80) {
      return 0;
    }
    bits = bits == 0x8000 ? 0 : bits;
    return (bits & 0x8000) != 0 ? ~bits & 0xffff : bits | 0x8000;
  }

  static float keyValue(int key) {
    int bits = (key & 0x8000) != 0 ? key & 0x7fff : ~key & 0xffff;
    return Float.intBitsToFloat(bits << 16);
  }

  /** select_key: two passes of histogram and choose_bin; 0 when the total falls short. */
  private static int select(float[] l, float t, float m, float tauK, float topP, long need, boolean mass) {
    int high = 0;
    long[] state = {need, 0}; // need, prefix
    for (int pass = 0; pass < 2; pass++) {
      long[] hist = new long[256];
      for (float x : l) {
        int key = key(x);
        if (key == 0 || (pass == 1 && key >>> 8 != high)) {
          continue;
        }
        int bin = pass == 0 ? key >>> 8 : key & 0xff;
        if (!mass) {
          hist[bin]++;
        } else {
          float z = x / t;
          if (z >= tauK) {
            hist[bin] += (long) Math.rint((float) Math.exp(z - m) * 0x1p32f);
          }
        }
      }
      if (!chooseBin(hist, pass, topP, mass, state)) {
        return 0;
      }
      high = (int) state[1];
    }
    return high;
  }

  /** choose_bin, lane by lane: lane j owns bins [8j, 8j + 8). */
  private static boolean chooseBin(long[] hist, int pass, float topP, boolean mass, long[] state) {
    long[] sum = new long[32];
    long[] fromHere = new long[33];
    for (int lane = 31; lane >= 0; lane--) {
      for (int j = 0; j < 8; j++) {
        sum[lane] += hist[lane * 8 + j];
      }
      fromHere[lane] = fromHere[lane + 1] + sum[lane];
    }
    long need = state[0];
    if (pass == 0 && mass) {
      need = Math.max(1, (long) Math.ceil((double) topP * (double) fromHere[0]));
    }
    int at = -1;
    for (int lane = 0; lane < 32; lane++) {
      at = fromHere[lane] >= need ? lane : at;
    }
    if (at < 0) {
      return false;
    }
    long above = fromHere[at] - sum[at];
    for (int j = 7; j >= 0; j--) {
      if (above + hist[at * 8 + j] >= need) {
        state[0] = need - above;
        state[1] = pass == 0 ? at * 8 + j : (state[1] << 8) | (at * 8 + j);
        return true;
      }
      above += hist[at * 8 + j];
    }
    throw new AssertionError("the reaching lane must hold the bin");
  }

  /** Gaussian bf16 values; coarse rows (many exact ties), planted NaN, ±0 and ±inf on request. */
  private static float[] row(Random r, int vocab, double std, boolean coarse, boolean specials) {
    float[] l = new float[vocab];
    for (int i = 0; i < vocab; i++) {
      double g = r.nextGaussian() * std;
      l[i] = Bf16.round((float) (coarse ? Math.rint(g * 4) / 4 : g));
    }
    if (specials) {
      l[r.nextInt(vocab)] = Float.NaN;
      l[r.nextInt(vocab)] = -0f;
      l[r.nextInt(vocab)] = 0f;
      l[r.nextInt(vocab)] = Float.NEGATIVE_INFINITY;
    }
    return l;
  }

  @Test
  void drawsWhatTheReferenceDrawsOnRandomRowsAndParams() {
    Random r = new Random(11);
    int rows = 0;
    int nearTies = 0;
    for (int c = 0; c < 3000; c++) {
      int vocab = new int[] {8, 37, 1000, 4096}[c % 4];
      float[] l = row(r, vocab, 0.5 + 4 * r.nextDouble(), c % 3 == 0, c % 5 == 0);
      float t = 0.2f + 1.8f * r.nextFloat();
      int topK = new int[] {0, 2 + r.nextInt(60), vocab - 1, vocab, 1}[r.nextInt(5)];
      float topP = r.nextBoolean() ? 1f : 0.3f + 0.69f * r.nextFloat();
      long seed = r.nextLong();
      int position = r.nextInt(1 << 20);
      TokenSampling.Draw want = TokenSampling.draw(l, 0, vocab, t, topP, topK, seed, position);
      int got = sampleLikeTheKernel(l, t, topP, topK, seed, position);
      rows++;
      if (got != want.token()) {
        float gap = want.best() - (l[got] / t + TokenSampling.gumbel(seed, got, position));
        assertTrue(Math.abs(gap) <= 1e-4 * Math.max(1, Math.abs(want.best())),
            "row " + c + " (vocab " + vocab + ", T " + t + ", top_k " + topK + ", top_p " + topP + "): kernel method "
                + got + ", reference " + want.token() + ", score gap " + gap);
        nearTies++;
      }
    }
    assertTrue(nearTies <= rows / 1000, nearTies + " near ties in " + rows + " rows");
  }

  @Test
  void keysOrderEveryBf16ValueAndInvert() {
    int previous = 0;
    for (int bits = 0xff80; bits >= 0x8000; bits--) { // -inf up to -0, then +0 up to +inf
      previous = checkNext(bits, previous);
    }
    for (int bits = 0x0000; bits <= 0x7f80; bits++) {
      previous = checkNext(bits, previous);
    }
    assertEquals(0, key(Float.NaN));
    assertEquals(0, key(Float.intBitsToFloat(0xffc00000)));
  }

  private static int checkNext(int bits, int previous) {
    float v = Float.intBitsToFloat(bits << 16);
    int k = key(v);
    if (bits == 0x0000) {
      assertEquals(previous, k, "+0 and -0 share a key");
    } else {
      assertTrue(k > previous, "key of " + Integer.toHexString(bits) + " is not above the previous value's");
    }
    assertEquals(bits == 0x8000 ? 0f : v, keyValue(k), "value of key " + k);
    return k;
  }

  @Test
  void theRowsWithoutAnyFiniteSpreadAgreeToo() {
    float nan = Float.NaN;
    float inf = Float.POSITIVE_INFINITY;
    float[][] rows = {{nan, nan, nan}, {-inf, -inf, nan}, {1f, inf, inf, 2f}, {3f, 3f, 3f, 3f}};
    for (float[] l : rows) {
      for (int p = 0; p < 20; p++) {
        assertEquals(TokenSampling.sample(l, 0, l.length, 0.7f, 0.9f, 2, 5L, p),
            sampleLikeTheKernel(l, 0.7f, 0.9f, 2, 5L, p));
        assertEquals(TokenSampling.sample(l, 0, l.length, 1.3f, 1f, 0, 5L, p),
            sampleLikeTheKernel(l, 1.3f, 1f, 0, 5L, p));
      }
    }
  }
}
