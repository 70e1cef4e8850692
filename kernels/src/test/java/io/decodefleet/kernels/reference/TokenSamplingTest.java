package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TokenSamplingTest {

  private static final long SEED = 1234567890123L;

  private static int sample(float[] logits, float t, float topP, int topK, long seed, int position) {
    return TokenSampling.sample(logits, 0, logits.length, t, topP, topK, seed, position);
  }

  /** The tokens drawn at positions 0..n-1. */
  private static Set<Integer> drawn(float[] logits, float t, float topP, int topK, int n) {
    Set<Integer> out = new HashSet<>();
    for (int p = 0; p < n; p++) {
      out.add(sample(logits, t, topP, topK, SEED, p));
    }
    return out;
  }

  @Test
  void sameSeedAndPositionGiveTheSameTokenEveryTime() {
    float[] logits = Closeness.gaussian(new Random(1), 5000, 2.0);
    for (int p = 0; p < 50; p++) {
      int first = sample(logits, 0.8f, 0.95f, 50, SEED, p);
      for (int again = 0; again < 3; again++) {
        assertEquals(first, sample(logits.clone(), 0.8f, 0.95f, 50, SEED, p), "position " + p);
      }
    }
  }

  @Test
  void differentPositionsAndSeedsDrawDifferentTokens() {
    float[] flat = new float[1000];
    Set<Integer> tokens = drawn(flat, 1f, 1f, 0, 200);
    // 200 uniform draws from 1000 give ~181 distinct tokens; a counter that ignored the position would give 1.
    assertTrue(tokens.size() > 150, "distinct tokens over 200 positions: " + tokens.size());
    int differ = 0;
    for (int p = 0; p < 100; p++) {
      differ += sample(flat, 1f, 1f, 0, SEED, p) != sample(flat, 1f, 1f, 0, SEED + 1, p) ? 1 : 0;
    }
    assertTrue(differ > 90, "seeds S and S + 1 agree at " + (100 - differ) + " of 100 positions");
    assertNotEquals(sample(flat, 1f, 1f, 0, 0L, 7), sample(flat, 1f, 1f, 0, 1L << 32, 7),
        "the seed's high word is part of the key");
  }

  @Test
  void greedyIsTheArgmaxWithTiesToTheLowestId() {
    float[] logits = {0.5f, 3f, -1f, 3f, 2f};
    for (int p = 0; p < 20; p++) {
      assertEquals(1, sample(logits, 0f, 1f, 0, SEED, p), "temperature 0");
      assertEquals(1, sample(logits, 1.5f, 0.9f, 1, SEED, p), "top_k 1");
    }
  }

  @Test
  void topKKeepsEveryValueTiedWithTheKthLargest() {
    float[] logits = {1f, 3f, 2f, 3f, 2f, 0f, -4f};
    assertEquals(2f, TokenSampling.threshold(logits, 0, logits.length, 1f, 1f, 3));
    assertEquals(1f, TokenSampling.threshold(logits, 0, logits.length, 2f, 1f, 3), "the bound is on l / T");
    assertEquals(Set.of(1, 2, 3, 4), drawn(logits, 1f, 1f, 3, 400));
    assertEquals(Float.NEGATIVE_INFINITY, TokenSampling.threshold(logits, 0, logits.length, 1f, 1f, 7), "K = V");
    assertEquals(Float.NEGATIVE_INFINITY, TokenSampling.threshold(logits, 0, logits.length, 1f, 1f, 0), "K = 0");
  }

  @Test
  void topPKeepsTiedValuesTogetherAndStopsAtTheFirstValueThatReachesTheMass() {
    // e = 1, 1, e^-1, e^-2 (total 2.503): the pair of 2s alone holds 0.7990 of the mass.
    float[] logits = {2f, 1f, 2f, 0f};
    assertEquals(2f, TokenSampling.threshold(logits, 0, 4, 1f, 0.3f, 0), "one 2 would do, both stay");
    assertEquals(2f, TokenSampling.threshold(logits, 0, 4, 1f, 0.7985f, 0));
    assertEquals(1f, TokenSampling.threshold(logits, 0, 4, 1f, 0.8f, 0));
    assertEquals(0f, TokenSampling.threshold(logits, 0, 4, 1f, 0.99f, 0));
    assertEquals(Set.of(0, 2), drawn(logits, 1f, 0.5f, 0, 200));
    assertEquals(Set.of(0, 1, 2), drawn(logits, 1f, 0.9f, 0, 400));
  }

  @Test
  void topPMeasuresMassWithinWhatTopKKept() {
    // After top-k 2: e = 1, e^-1 (total 1.368); 0.5 of it is reached by the largest alone.
    float[] logits = {3f, 2f, 1f, 0f};
    assertEquals(3f, TokenSampling.threshold(logits, 0, 4, 1f, 0.5f, 2));
    assertEquals(2f, TokenSampling.threshold(logits, 0, 4, 1f, 0.75f, 2));
    assertEquals(Set.of(0), drawn(logits, 1f, 0.5f, 2, 50));
  }

  @Test
  void nanIsNeverKeptAndARowOfNaNHasNoToken() {
    float nan = Float.NaN;
    float[] logits = {nan, 1f, nan, 1f, nan};
    assertEquals(Set.of(1, 3), drawn(logits, 1f, 1f, 0, 200));
    assertEquals(Set.of(1, 3), drawn(logits, 1f, 1f, 2, 200), "K = non-NaN count: no cut");
    assertEquals(Set.of(1, 3), drawn(logits, 1f, 0.5f, 0, 200));
    assertEquals(-1, sample(new float[] {nan, nan}, 1f, 0.9f, 5, SEED, 3));
  }

  @Test
  void minusZeroAndZeroAreOneValue() {
    float[] logits = {-0f, 0f, -1f};
    assertTrue(TokenSampling.threshold(logits, 0, 3, 1f, 1f, 2) == 0f, "top-k 2: both zeros");
    assertEquals(Set.of(0, 1), drawn(logits, 1f, 1f, 2, 200));
    assertEquals(Set.of(0, 1), drawn(logits, 1f, 0.4f, 0, 200), "tied at the top: both or neither");
  }

  @Test
  void gumbelIsFiniteAtBothEndsOfTheUnitInterval() {
    float low = TokenSampling.gumbel(0); // u = 2^-25
    float high = TokenSampling.gumbel(0xffffffff); // u = 1 - 2^-25: rounding u to float would give +inf
    assertEquals(-Math.log(25 * Math.log(2)), low, 1e-5);
    assertEquals(-Math.log(0x1p-25), high, 1e-4);
    float half = TokenSampling.gumbel(0x80000000); // u = 1/2 + 2^-25, the second branch
    assertEquals(-Math.log(-Math.log(0.5 + 0x1p-25)), half, 1e-6);
    assertEquals(-Math.log(-Math.log(0.5 - 0x1p-25)), TokenSampling.gumbel(0x7fffff00), 1e-6);
    float previous = Float.NEGATIVE_INFINITY;
    for (long x = 0; x <= 0xffffffffL; x += 0x00ff_ffffL) {
      float g = TokenSampling.gumbel((int) x);
      assertTrue(g >= previous, "g increases with u at x = " + Long.toHexString(x));
      previous = g;
    }
  }

  @Test
  void drawsReportTheTwoBestScores() {
    float[] logits = Closeness.gaussian(new Random(2), 300, 1.0);
    TokenSampling.Draw d = TokenSampling.draw(logits, 0, 300, 0.9f, 1f, 0, SEED, 11);
    float expected = logits[d.token()] / 0.9f + TokenSampling.gumbel(SEED, d.token(), 11);
    assertEquals(expected, d.best());
    assertTrue(d.runnerUp() < d.best());
    for (int i = 0; i < 300; i++) {
      float score = logits[i] / 0.9f + TokenSampling.gumbel(SEED, i, 11);
      assertTrue(i == d.token() || score <= d.runnerUp(), "token " + i + " beats the runner-up");
    }
  }

  @Test
  void shortfallIsZeroForTheDrawAndMeasuresTheLeadOrTheBoundOtherwise() {
    float[] logits = Closeness.gaussian(new Random(5), 400, 1.5);
    int drawn = TokenSampling.sample(logits, 0, 400, 0.7f, 0.9f, 30, SEED, 3);
    assertEquals(0f, TokenSampling.shortfall(logits, 0, 400, 0.7f, 0.9f, 30, SEED, 3, drawn));
    TokenSampling.Draw d = TokenSampling.draw(logits, 0, 400, 0.7f, 0.9f, 30, SEED, 3);
    float bound = TokenSampling.threshold(logits, 0, 400, 0.7f, 0.9f, 30);
    for (int i = 0; i < 400; i++) {
      float z = logits[i] / 0.7f;
      float lead = d.best() - (z + TokenSampling.gumbel(SEED, i, 3));
      float expected = i == drawn ? 0f : Math.max(lead, bound - z);
      assertEquals(expected, TokenSampling.shortfall(logits, 0, 400, 0.7f, 0.9f, 30, SEED, 3, i), "token " + i);
      assertTrue(i == drawn || expected > 0, "only the draw has no shortfall");
    }
    float[] greedy = {1f, 4f, 2.5f};
    assertEquals(1.5f, TokenSampling.shortfall(greedy, 0, 3, 0f, 1f, 0, SEED, 0, 2));
    assertTrue(Float.isNaN(TokenSampling.shortfall(new float[] {Float.NaN, 1f}, 0, 2, 1f, 1f, 0, SEED, 0, 0)));
  }

  @Test
  void looksOnlyInsideTheRowAndRejectsBadParams() {
    float[] rows = {9f, 9f, 0f, 1f, 9f};
    for (int p = 0; p < 20; p++) {
      int t = TokenSampling.sample(rows, 2, 2, 1f, 1f, 0, SEED, p);
      assertTrue(t == 0 || t == 1, "token " + t);
    }
    assertThrows(IllegalArgumentException.class, () -> sample(rows, -1f, 1f, 0, SEED, 0));
    assertThrows(IllegalArgumentException.class, () -> sample(rows, Float.NaN, 1f, 0, SEED, 0));
    assertThrows(IllegalArgumentException.class, () -> sample(rows, 1f, 0f, 0, SEED, 0));
    assertThrows(IllegalArgumentException.class, () -> sample(rows, 1f, 1.5f, 0, SEED, 0));
    assertThrows(IllegalArgumentException.class, () -> TokenSampling.sample(rows, 3, 3, 1f, 1f, 0, SEED, 0));
  }
}
