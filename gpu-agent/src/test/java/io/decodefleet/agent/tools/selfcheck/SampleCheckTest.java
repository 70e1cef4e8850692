package io.decodefleet.agent.tools.selfcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.kernels.reference.TokenSampling;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The host half of the self-test's SAMPLE family: the params it mixes and how it judges tokens. */
class SampleCheckTest {

  @Test
  void sampleIsASelfTestFamilyOnTheShapesItPromises() {
    assertEquals(KernelFamily.SAMPLE, KernelFamily.valueOf("SAMPLE"));
    assertEquals("", KernelFamily.SAMPLE.unavailabilityCause());
  }

  @Test
  void everyRunOfSevenRowsHoldsEveryKindOfParams() {
    SampleCheck.RowParams q = SampleCheck.mixedParams(new Random(3), 17, 1000);
    Set<String> kinds = new HashSet<>();
    for (int i = 0; i < 7; i++) {
      float t = q.temperature()[i];
      float p = q.topP()[i];
      int k = q.topK()[i];
      kinds.add(t == 0f ? "greedy" : k == 1 ? "top-k 1" : k == 1000 ? "k at vocab" : k > 1 && p < 1 ? "k+p"
          : k > 1 ? "k" : p < 1 ? "p" : "t");
      assertTrue(t == 0f || (t >= 0.3f && t <= 1.7f), "temperature " + t);
      assertTrue(p > 0f && p <= 1f, "top_p " + p);
      assertTrue(q.position()[i] >= 0);
    }
    assertEquals(Set.of("greedy", "top-k 1", "t", "k", "p", "k+p", "k at vocab"), kinds);
    long seed = q.seed()[5];
    assertEquals(seed, (q.seedWords(0)[5] & 0xffffffffL) | ((long) q.seedWords(32)[5] << 32));
  }

  @Test
  void aDifferentTokenPassesOnlyAtAFloatNearTie() {
    TokenSampling.Draw clear = new TokenSampling.Draw(4, 10.5f, 9.0f);
    TokenSampling.Draw tie = new TokenSampling.Draw(4, 10.5f, 10.4996f);
    TokenSampling.Draw none = new TokenSampling.Draw(-1, Float.NaN, Float.NaN);
    SampleCheck.Outcome o = SampleCheck.compare(new int[] {4, 7, 7, -1, 3},
        new TokenSampling.Draw[] {clear, clear, tie, none, none});
    assertEquals(2, o.same());
    assertEquals(1, o.nearTies());
    assertEquals(2, o.mismatches());
    assertEquals("row 1: token 7, reference 4", o.firstMismatch());
  }
}
