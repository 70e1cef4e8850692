package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.kernels.cuda.Bf16;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Why an FP8 KV cache cannot hold two implementations to the bf16 tolerance the float cache does:
 * K and V that differ by one bf16 rounding (what a bf16 device's projections are beside the float32
 * reference's) land on different e4m3 codes wherever a value sits near a midpoint between two codes,
 * and a code step is 2^-3 relative where a bf16 step is 2^-8. Over one decode attention of a
 * 1024-token context the outputs move several times further through the FP8 cache than through a
 * float one. The numbers this prints are the mechanism behind parity's FP8-KV margins
 * (docs/performance.md, "FP8 KV cache and the parity tolerance").
 */
class Fp8KvAmplificationTest {

  @Test
  void aBf16RoundingOfKAndVMovesFp8CachedAttentionSeveralTimesFurtherThanFloatCached() {
    Random r = new Random(17);
    int qHeads = 8;
    int kvHeads = 2;
    int d = 64;
    int context = 1024;
    int bs = 16;
    int slot = kvHeads * d;
    float[] k = gaussian(r, context * slot, 1.0);
    float[] v = gaussian(r, context * slot, 1.0);
    float[] q = gaussian(r, qHeads * d, 1.0);
    float[] kRounded = rounded(k);
    float[] vRounded = rounded(v);
    int[] slots = new int[context];
    int[] table = new int[context / bs];
    for (int i = 0; i < context; i++) slots[i] = i;
    for (int b = 0; b < table.length; b++) table[b] = b;
    int[][] tables = {table};
    int[] lens = {context};
    float scale = (float) (1 / Math.sqrt(d));

    float[] kf = new float[context * slot];
    float[] vf = new float[context * slot];
    float[] exact = new float[qHeads * d];
    PagedKvCache.append(k, v, context, slots, kf, vf, kvHeads, d);
    PagedAttention.forward(q, 1, qHeads, kvHeads, d, kf, vf, bs, tables, lens, scale, exact);
    PagedKvCache.append(kRounded, vRounded, context, slots, kf, vf, kvHeads, d);
    float[] nudged = new float[qHeads * d];
    PagedAttention.forward(q, 1, qHeads, kvHeads, d, kf, vf, bs, tables, lens, scale, nudged);

    byte[] k8 = new byte[context * slot];
    byte[] v8 = new byte[context * slot];
    float[] fp8 = new float[qHeads * d];
    PagedKvCache.appendFp8(k, v, context, slots, k8, v8, kvHeads, d, 1f, 1f);
    PagedAttention.forwardFp8(q, 1, qHeads, kvHeads, d, k8, v8, 1f, 1f, bs, tables, lens, scale, fp8);
    PagedKvCache.appendFp8(kRounded, vRounded, context, slots, k8, v8, kvHeads, d, 1f, 1f);
    float[] fp8Nudged = new float[qHeads * d];
    PagedAttention.forwardFp8(q, 1, qHeads, kvHeads, d, k8, v8, 1f, 1f, bs, tables, lens, scale, fp8Nudged);

    double floatMoves = relL2(nudged, exact);
    double fp8Moves = relL2(fp8Nudged, fp8);
    System.out.printf("bf16 rounding of K and V moves attention by %.2e through a float cache, %.2e through"
        + " an FP8 one (%.1fx)%n", floatMoves, fp8Moves, fp8Moves / floatMoves);
    assertTrue(fp8Moves > 4 * floatMoves, floatMoves + " vs " + fp8Moves);
  }

  private static float[] gaussian(Random r, int n, double std) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * std);
    return x;
  }

  private static float[] rounded(float[] x) {
    float[] y = new float[x.length];
    for (int i = 0; i < x.length; i++) y[i] = Bf16.round(x[i]);
    return y;
  }

  private static double relL2(float[] got, float[] want) {
    double err = 0;
    double norm = 0;
    for (int i = 0; i < want.length; i++) {
      err += (double) (got[i] - want[i]) * (got[i] - want[i]);
      norm += (double) want[i] * want[i];
    }
    return Math.sqrt(err / norm);
  }
}
