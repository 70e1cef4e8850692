package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.decodefleet.kernels.reference.ExpertPermutation;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * moe.cu's permutation (df_moe_permute) emulated on the host step for step: counts, the capped
 * exclusive scan, then CTA-wide chunks of pairs ranked by earlier chunks (cursor), earlier warps
 * (per-warp counts) and lower lanes of the same warp with the same expert ({@code match.any}). Its
 * algorithm must group exactly as {@link ExpertPermutation} does, drops included, for batches of one
 * and of many chunks; the self-test then checks the device runs it.
 */
class MoePermutationEmulationTest {

  private static final int THREADS = 256;
  private static final int WARPS = THREADS / 32;

  /** {offsets, rowOf, tokenOf (kept), load (experts, 2), active (count, then ids)} as the kernel writes them. */
  static int[][] emulate(int[] experts, int live, int k, int numExperts, int cap) {
    int pairs = live * k;
    int[] counts = new int[numExperts];
    for (int i = 0; i < pairs; i++) counts[experts[i]]++;
    int[] offs = new int[numExperts + 1];
    int[] load = new int[2 * numExperts];
    int carry = 0;
    int[] active = new int[numExperts + 1];
    int busyCarry = 0;
    for (int base = 0; base < numExperts; base += 32) { // warp 0's scan, 32 experts at a time
      int[] incl = new int[32];
      int[] kept = new int[32];
      for (int lane = 0; lane < 32; lane++) {
        int e = base + lane;
        kept[lane] = e < numExperts ? Math.min(counts[e], cap) : 0;
        incl[lane] = kept[lane] + (lane > 0 ? incl[lane - 1] : 0);
      }
      // ballot(kept > 0); a busy lane writes at 1 + busyCarry + popc(ballot & lanes below it).
      int busy = 0;
      for (int lane = 0; lane < 32; lane++) busy |= kept[lane] > 0 ? 1 << lane : 0;
      for (int lane = 0; lane < 32; lane++) {
        if (kept[lane] > 0) active[1 + busyCarry + Integer.bitCount(busy & ((1 << lane) - 1))] = base + lane;
      }
      busyCarry += Integer.bitCount(busy);
      for (int lane = 0; lane < 32 && base + lane < numExperts; lane++) {
        int e = base + lane;
        offs[e] = carry + incl[lane] - kept[lane];
        load[2 * e] = kept[lane];
        load[2 * e + 1] = counts[e] - kept[lane];
      }
      carry += incl[31];
    }
    offs[numExperts] = carry;
    active[0] = busyCarry;
    int[] rowOf = new int[pairs];
    int[] tokenOf = new int[carry];
    int[] cursor = new int[numExperts];
    for (int base = 0; base < pairs; base += THREADS) {
      int[][] warpCount = new int[WARPS][numExperts];
      int[] e = new int[THREADS];
      int[] rank = new int[THREADS];
      for (int tid = 0; tid < THREADS; tid++) e[tid] = base + tid < pairs ? experts[base + tid] : -1;
      for (int tid = 0; tid < THREADS; tid++) {
        int warp = tid / 32;
        int lane = tid % 32;
        int same = 0;
        int lower = 0;
        for (int l = 0; l < 32; l++) {
          if (e[warp * 32 + l] == e[tid]) {
            same++;
            if (l < lane) lower++;
          }
        }
        rank[tid] = lower;
        if (e[tid] >= 0 && lower == 0) warpCount[warp][e[tid]] = same;
      }
      for (int tid = 0; tid < THREADS; tid++) {
        if (e[tid] < 0) continue;
        int r = cursor[e[tid]] + rank[tid];
        for (int w = 0; w < tid / 32; w++) r += warpCount[w][e[tid]];
        int i = base + tid;
        if (r < cap) {
          rowOf[i] = offs[e[tid]] + r;
          tokenOf[offs[e[tid]] + r] = i / k;
        } else {
          rowOf[i] = -1;
        }
      }
      for (int x = 0; x < numExperts; x++) {
        for (int w = 0; w < WARPS; w++) cursor[x] += warpCount[w][x];
      }
    }
    return new int[][] {offs, rowOf, tokenOf, load, Arrays.copyOf(active, 1 + busyCarry)};
  }

  @Test
  void theKernelsChunkedRankingGroupsExactlyAsTheReferenceWithAndWithoutCapacity() {
    Random r = new Random(11);
    int[][] shapes = {{1, 8, 2}, {17, 8, 2}, {128, 8, 2}, {300, 128, 8}, {1000, 61, 6}, {129, 256, 8}};
    for (int[] s : shapes) {
      int tokens = s[0];
      int experts = s[1];
      int k = s[2];
      int[] choice = new int[tokens * k];
      for (int t = 0; t < tokens; t++) {
        boolean[] taken = new boolean[experts];
        for (int j = 0; j < k; j++) {
          int e;
          do {
            e = (int) (Math.pow(r.nextDouble(), 2.5) * experts);
          } while (taken[e]);
          taken[e] = true;
          choice[t * k + j] = e;
        }
      }
      for (double factor : new double[] {0, 1.0, 0.5, 1.25}) {
        int cap = factor > 0 ? ExpertPermutation.capacity(factor, tokens, k, experts) : ExpertPermutation.UNBOUNDED;
        ExpertPermutation ref = ExpertPermutation.of(choice, tokens, k, experts, cap);
        int[][] got = emulate(choice, tokens, k, experts, cap);
        String where = tokens + " tokens, " + experts + " experts, top-" + k + ", factor " + factor;
        assertArrayEquals(ref.offsets(), got[0], where + ": offsets");
        assertArrayEquals(ref.rowOf(), got[1], where + ": rowOf");
        assertArrayEquals(ref.tokenOf(), got[2], where + ": tokenOf");
        int[] load = new int[2 * experts];
        for (int e = 0; e < experts; e++) {
          load[2 * e] = ref.count(e);
          load[2 * e + 1] = ref.dropped()[e];
        }
        assertArrayEquals(load, got[3], where + ": load");
        // The experts that kept a row, counted then listed in ascending id: the grouped GEMMs' grid rows.
        int[] active = java.util.stream.IntStream.range(0, experts).filter(e -> ref.count(e) > 0).toArray();
        int[] want = new int[1 + active.length];
        want[0] = active.length;
        System.arraycopy(active, 0, want, 1, active.length);
        assertArrayEquals(want, got[4], where + ": active");
      }
    }
    // One expert taking three tokens lists them in batch order.
    assertArrayEquals(new int[] {0, 1, 2}, Arrays.copyOf(emulate(new int[] {0, 0, 0}, 3, 1, 2, 4)[2], 3));
  }
}
