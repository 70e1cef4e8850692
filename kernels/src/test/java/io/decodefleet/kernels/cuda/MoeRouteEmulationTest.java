package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.decodefleet.kernels.reference.MoeRouter;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * moe.cu's router (df_moe_route) emulated on the host lane by lane: each lane's 8 experts at
 * {@code c * 128 + lane * 4 + i}, the exponentials summed per lane and across lanes by an xor
 * butterfly, each lane's best untaken expert by strict {@code >} in ascending id, the warp's maximum
 * probability (a reduction over float bits) and the lowest id holding it; weights summed in slot order. Its choices must be {@link MoeRouter}'s exactly, exact ties and probabilities that
 * underflow to 0 included; the self-test then checks the device runs it.
 */
class MoeRouteEmulationTest {

  static int expertOf(int lane, int slot) {
    return (slot >> 2) * 128 + lane * 4 + (slot & 3);
  }

  /** {experts (k), weights as float bits (k)} of one token. */
  static int[][] emulate(float[] logits, int base, int numExperts, int k, boolean norm) {
    float max = Float.NEGATIVE_INFINITY;
    for (int e = 0; e < numExperts; e++) max = Math.max(max, logits[base + e]);
    double[] exps = new double[numExperts];
    for (int e = 0; e < numExperts; e++) exps[e] = Math.exp((double) logits[base + e] - (double) max);
    // Each lane sums its own slots in slot order, then the xor butterfly (part += shfl_xor(part, o)).
    double[] part = new double[32];
    for (int lane = 0; lane < 32; lane++) {
      for (int s = 0; s < 8; s++) {
        int e = expertOf(lane, s);
        if (e < numExperts) part[lane] += exps[e];
      }
    }
    for (int o = 16; o > 0; o >>= 1) {
      double[] next = new double[32];
      for (int lane = 0; lane < 32; lane++) next[lane] = part[lane] + part[lane ^ o];
      part = next;
    }
    for (int lane = 1; lane < 32; lane++) {
      if (part[lane] != part[0]) throw new AssertionError("lane " + lane + " ends with another sum");
    }
    double sum = part[0];
    float[][] prob = new float[32][8];
    for (int lane = 0; lane < 32; lane++) {
      for (int s = 0; s < 8; s++) {
        int e = expertOf(lane, s);
        prob[lane][s] = e < numExperts ? (float) (exps[e] / sum) : -1f;
      }
    }
    int[] taken = new int[32];
    int[] experts = new int[k];
    float[] weights = new float[k];
    float total = 0;
    for (int j = 0; j < k; j++) {
      float[] bv = new float[32];
      int[] bi = new int[32];
      for (int lane = 0; lane < 32; lane++) {
        bv[lane] = -2f;
        bi[lane] = Integer.MAX_VALUE;
        for (int s = 0; s < 8; s++) {
          int e = expertOf(lane, s);
          if (e < numExperts && (taken[lane] >> s & 1) == 0 && (bi[lane] == Integer.MAX_VALUE || prob[lane][s] > bv[lane])) {
            bv[lane] = prob[lane][s];
            bi[lane] = e;
          }
        }
      }
      // redux.sync.max over the candidates' float bits (probabilities are >= +0, so their bits order
      // as they do; a lane without a candidate offers 0), then redux.sync.min over the ids of the
      // lanes holding that maximum (others offer 0xffffffff, unsigned).
      int best = 0;
      for (int lane = 0; lane < 32; lane++) {
        int key = bi[lane] != Integer.MAX_VALUE ? Float.floatToRawIntBits(bv[lane]) : 0;
        if (Integer.compareUnsigned(key, best) > 0) best = key;
      }
      int who = -1; // 0xffffffff
      for (int lane = 0; lane < 32; lane++) {
        int key = bi[lane] != Integer.MAX_VALUE ? Float.floatToRawIntBits(bv[lane]) : 0;
        int offer = key == best && bi[lane] != Integer.MAX_VALUE ? bi[lane] : -1;
        if (Integer.compareUnsigned(offer, who) < 0) who = offer;
      }
      float chosen = Float.intBitsToFloat(best);
      for (int lane = 0; lane < 32; lane++) {
        for (int s = 0; s < 8; s++) {
          if (expertOf(lane, s) == who) taken[lane] |= 1 << s;
        }
      }
      experts[j] = who;
      weights[j] = chosen;
      total += chosen;
    }
    int[] bits = new int[k];
    for (int j = 0; j < k; j++) bits[j] = Float.floatToIntBits(norm ? weights[j] / total : weights[j]);
    return new int[][] {experts, bits};
  }

  @Test
  void theWarpsTopKIsTheReferencesTiesAndUnderflowsIncluded() {
    Random r = new Random(5);
    int[][] shapes = {{8, 2}, {61, 4}, {128, 8}, {256, 8}, {8, 8}, {3, 3}};
    for (int[] s : shapes) {
      int experts = s[0];
      int k = s[1];
      int tokens = 40;
      float[] logits = new float[tokens * experts];
      for (int i = 0; i < logits.length; i++) logits[i] = (float) (r.nextGaussian() * 3);
      for (int t = 0; t < tokens; t += 3) {
        logits[t * experts + experts / 2] = logits[t * experts];
        logits[t * experts + experts - 1] = logits[t * experts];
      }
      for (int e = 0; e < experts; e++) logits[experts + e] = e % 2 == 0 ? 0f : -2000f; // exp underflows to 0
      for (boolean norm : new boolean[] {true, false}) {
        MoeRouter.Routing ref = MoeRouter.route(logits, tokens, experts, k, norm);
        for (int t = 0; t < tokens; t++) {
          int[][] got = emulate(logits, t * experts, experts, k, norm);
          int[] wantBits = new int[k];
          for (int j = 0; j < k; j++) wantBits[j] = Float.floatToIntBits(ref.weight(t, j));
          String where = experts + " experts, top-" + k + ", token " + t;
          assertArrayEquals(java.util.Arrays.copyOfRange(ref.experts(), t * k, t * k + k), got[0], where);
          assertArrayEquals(wantBits, got[1], where + ": weights");
        }
      }
    }
  }
}
