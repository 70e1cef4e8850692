package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The mixture-of-experts reference (router, permutation by expert, grouped expert GEMMs, weighted
 * combine) against a naive loop over tokens that runs each token's chosen experts one by one.
 */
class MoeLayerTest {

  private static float[] random(Random r, int n, float scale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (r.nextFloat() * 2 - 1) * scale;
    return a;
  }

  private record Experts(float[] router, float[][] gate, float[][] up, float[][] down) {}

  private static Experts experts(Random r, int numExperts, int hidden, int inter) {
    float[][] gate = new float[numExperts][];
    float[][] up = new float[numExperts][];
    float[][] down = new float[numExperts][];
    for (int e = 0; e < numExperts; e++) {
      gate[e] = random(r, inter * hidden, (float) Math.sqrt(3.0 / hidden));
      up[e] = random(r, inter * hidden, (float) Math.sqrt(3.0 / hidden));
      down[e] = random(r, hidden * inter, (float) Math.sqrt(3.0 / inter));
    }
    return new Experts(random(r, numExperts * hidden, 1f), gate, up, down);
  }

  /** The grouped path: route, permute, grouped GEMMs, combine. */
  private static ExpertPermutation grouped(float[] x, Experts w, int n, int hidden, int inter, int numExperts, int k,
      boolean norm, int capacity, float[] out) {
    float[] logits = new float[n * numExperts];
    Matmul.matmulTransposed(x, w.router, n, numExperts, hidden, logits);
    MoeRouter.Routing routing = MoeRouter.route(logits, n, numExperts, k, norm);
    ExpertPermutation p = ExpertPermutation.of(routing.experts(), n, k, numExperts, capacity);
    float[] xs = new float[p.kept() * hidden];
    p.permute(x, hidden, xs);
    float[] ys = new float[p.kept() * hidden];
    GroupedExperts.forward(xs, p.offsets(), w.gate, w.up, w.down, hidden, inter, ys);
    ExpertPermutation.combine(ys, p.rowOf(), routing.weights(), n, k, hidden, out);
    return p;
  }

  /** Token by token: softmax in double, top-k by a full sort, each expert's MLP on the one row. */
  private static void naive(float[] x, Experts w, int n, int hidden, int inter, int numExperts, int k, boolean norm,
      float[] out) {
    for (int t = 0; t < n; t++) {
      float[] row = java.util.Arrays.copyOfRange(x, t * hidden, (t + 1) * hidden);
      float[] logits = new float[numExperts];
      Matmul.matmulTransposed(row, w.router, 1, numExperts, hidden, logits);
      double max = Double.NEGATIVE_INFINITY;
      for (float l : logits) max = Math.max(max, l);
      double sum = 0;
      for (float l : logits) sum += Math.exp(l - max);
      float[] probs = new float[numExperts];
      Integer[] order = new Integer[numExperts];
      for (int e = 0; e < numExperts; e++) {
        probs[e] = (float) (Math.exp(logits[e] - max) / sum);
        order[e] = e;
      }
      java.util.Arrays.sort(order, (a, b) -> probs[a] != probs[b] ? Float.compare(probs[b], probs[a]) : a - b);
      float chosen = 0;
      for (int j = 0; j < k; j++) chosen += probs[order[j]];
      java.util.Arrays.fill(out, t * hidden, (t + 1) * hidden, 0f);
      for (int j = 0; j < k; j++) {
        int e = order[j];
        float wgt = norm ? probs[e] / chosen : probs[e];
        float[] g = new float[inter];
        float[] u = new float[inter];
        Matmul.matmulTransposed(row, w.gate[e], 1, inter, hidden, g);
        Matmul.matmulTransposed(row, w.up[e], 1, inter, hidden, u);
        SwiGlu.forward(g, u, inter, g);
        float[] y = new float[hidden];
        Matmul.matmulTransposed(g, w.down[e], 1, hidden, inter, y);
        for (int c = 0; c < hidden; c++) out[t * hidden + c] += wgt * y[c];
      }
    }
  }

  @ParameterizedTest
  @CsvSource({"1, 8, 2, true", "17, 8, 2, true", "33, 6, 3, false", "128, 16, 4, true", "5, 4, 4, false"})
  void groupedExpertsMatchTheTokenByTokenLoopExactly(int n, int numExperts, int k, boolean norm) {
    int hidden = 24;
    int inter = 20;
    Random r = new Random(n * 31L + numExperts);
    Experts w = experts(r, numExperts, hidden, inter);
    float[] x = random(r, n * hidden, 1f);
    float[] got = new float[n * hidden];
    float[] want = new float[n * hidden];
    ExpertPermutation p = grouped(x, w, n, hidden, inter, numExperts, k, norm, ExpertPermutation.UNBOUNDED, got);
    naive(x, w, n, hidden, inter, numExperts, k, norm, want);
    assertArrayEquals(want, got);
    assertEquals(n * k, p.kept());
    int[] none = new int[numExperts];
    assertArrayEquals(none, p.dropped());
  }

  @Test
  void tiesGoToTheLowerExpertIdAndRenormalisedWeightsSumToOne() {
    // Experts 1, 2 and 3 tie at the top; 0 is lowest.
    float[] logits = {0f, 2f, 2f, 2f};
    MoeRouter.Routing r = MoeRouter.route(logits, 1, 4, 2, true);
    assertArrayEquals(new int[] {1, 2}, r.experts());
    assertArrayEquals(new float[] {0.5f, 0.5f}, r.weights());
    MoeRouter.Routing plain = MoeRouter.route(new float[] {3f, 1f, 2f, 0f}, 1, 4, 2, false);
    assertArrayEquals(new int[] {0, 2}, plain.experts());
    double z = Math.exp(0) + Math.exp(-2) + Math.exp(-1) + Math.exp(-3);
    assertEquals((float) (1 / z), plain.weight(0, 0));
    assertEquals((float) (Math.exp(-1) / z), plain.weight(0, 1));
  }

  @Test
  void theExponentialsAreSummedPerLaneThenAcrossLanesInButterflyOrder() {
    // 1e16 absorbs a 1.0 added to it (the spacing of doubles there is 2): the order shows in the sum.
    double[] v = new double[128];
    v[0] = 1e16;  // lane 0
    v[4] = 1.0;   // lane 1
    v[1] = -1e16; // lane 0, right after expert 0: lane 0's sum is 0
    // In expert order: ((1e16 - 1e16) + 1.0) = 1.0; per lane: lane 0 holds 0, lane 1 holds 1.0: also 1.0.
    assertEquals(1.0, MoeRouter.sumInLaneOrder(v));
    v[1] = 0;
    v[64] = -1e16; // lane 16: lanes 0 and 16 meet first (offset 16), before lane 1 joins
    // Expert order: (1e16 + 1.0) - 1e16 = 0.0; the butterfly: (1e16 + -1e16) + 1.0 = 1.0.
    assertEquals(1.0, MoeRouter.sumInLaneOrder(v));
    double inOrder = 0;
    for (double d : v) inOrder += d;
    assertEquals(0.0, inOrder);
    // Experts past 128 fold onto the same lanes: 128 + 4l + i belongs to lane l.
    double[] w = new double[256];
    w[0] = 1e16;
    w[128] = -1e16; // lane 0 again: cancels before any other lane joins
    w[4] = 1.0;
    assertEquals(1.0, MoeRouter.sumInLaneOrder(w));
    double[] ones = new double[61];
    java.util.Arrays.fill(ones, 0.5);
    assertEquals(30.5, MoeRouter.sumInLaneOrder(ones));
  }

  @Test
  void capacityKeepsEachExpertsFirstTokensInBatchOrderAndCountsTheDropped() {
    // 5 tokens, top-2 of 4 experts: expert 0 is everybody's first choice.
    int[] experts = {0, 1, 0, 2, 0, 1, 0, 3, 0, 2};
    int capacity = ExpertPermutation.capacity(1.0, 5, 2, 4); // ceil(5 * 2 / 4) = 3
    assertEquals(3, capacity);
    ExpertPermutation p = ExpertPermutation.of(experts, 5, 2, 4, capacity);
    assertArrayEquals(new int[] {2, 0, 0, 0}, p.dropped());
    assertArrayEquals(new int[] {0, 3, 5, 7, 8}, p.offsets());
    assertArrayEquals(new int[] {0, 1, 2, 0, 2, 1, 4, 3}, p.tokenOf());
    assertEquals(-1, p.rowOf()[3 * 2]); // token 3's expert 0 is over capacity
    assertEquals(-1, p.rowOf()[4 * 2]);
    assertEquals(2, p.rowOf()[2 * 2]);
    // A dropped pair adds nothing: token 3 keeps only its expert 3's row, at its own weight.
    float[] y = new float[8];
    for (int row = 0; row < 8; row++) y[row] = row + 1;
    float[] weights = {0.6f, 0.4f, 0.6f, 0.4f, 0.6f, 0.4f, 0.6f, 0.4f, 0.6f, 0.4f};
    float[] out = new float[5];
    ExpertPermutation.combine(y, p.rowOf(), weights, 5, 2, 1, out);
    assertEquals(0.4f * 8, out[3]);
    assertEquals(0.6f * 1 + 0.4f * 4, out[0]);
    assertThrows(IllegalArgumentException.class, () -> ExpertPermutation.capacity(0, 5, 2, 4));
  }

  @Test
  void cappedLayerEqualsTheNaiveLoopWhereNothingIsDroppedAndZeroesTheDroppedPairs() {
    int n = 40;
    int hidden = 16;
    int inter = 12;
    Random r = new Random(7);
    Experts w = experts(r, 8, hidden, inter);
    float[] x = random(r, n * hidden, 1f);
    float[] capped = new float[n * hidden];
    float[] naive = new float[n * hidden];
    ExpertPermutation p = grouped(x, w, n, hidden, inter, 8, 2, true, ExpertPermutation.capacity(1.0, n, 2, 8),
        capped);
    naive(x, w, n, hidden, inter, 8, 2, true, naive);
    int droppedPairs = java.util.Arrays.stream(p.dropped()).sum();
    assertEquals(n * 2, p.kept() + droppedPairs);
    assertEquals(true, droppedPairs > 0, "capacity 1.0 over 40 tokens drops some pairs");
    int untouched = 0;
    for (int t = 0; t < n; t++) {
      boolean dropped = p.rowOf()[2 * t] < 0 || p.rowOf()[2 * t + 1] < 0;
      float[] a = java.util.Arrays.copyOfRange(capped, t * hidden, (t + 1) * hidden);
      float[] b = java.util.Arrays.copyOfRange(naive, t * hidden, (t + 1) * hidden);
      if (dropped) {
        assertEquals(false, java.util.Arrays.equals(a, b), "token " + t + " lost an expert");
      } else {
        assertArrayEquals(b, a, "token " + t);
        untouched++;
      }
    }
    assertEquals(true, untouched > 0);
  }
}
