package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Sampled decoding through the scheduler, the model runner and the CPU backend (tiny): a seeded
 * draw is a function of the logits and (seed, position) only, so runs repeat exactly, another seed
 * draws other tokens, greedy sequences batched with sampled ones are unchanged, and neither
 * batching nor the host-logits path changes a draw.
 */
class SampledDecodeTest {
  private static final ModelConfig TINY = ModelConfig.preset("tiny");
  private static final int V = TINY.vocabSize();
  private static final int MAX_TOKENS = 12;
  private static final int[][] PROMPTS = {{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 12, 13}, {100, 200, 300},
      {1000, 1, 1000, 1, 1000, 1, 7}};

  private static SamplingParams sampled(long seed) {
    return new SamplingParams(0.8f, 1f, 0, seed, new int[0], 0);
  }

  /**
   * Decodes one sequence per params, {@link #MAX_TOKENS} tokens each.
   *
   * @param hostLogits ask the runner for logits (the host samples) instead of the backend's tokens
   * @return (sequence id → generated tokens)
   */
  private static Map<Long, int[]> decode(int maxNumSeqs, boolean hostLogits, SamplingParams... params) {
    Map<Long, List<Integer>> tokens = new TreeMap<>();
    try (CpuBackend b = new CpuBackend(8L << 20)) {
      b.loadModel(TINY, 77);
      b.allocateKvCache(64, 4);
      Scheduler s = new Scheduler(new SchedulerConfig(maxNumSeqs, 64, 1000), new KvBlockManager(64, 4));
      ModelRunner runner = new ModelRunner(b, 4, V);
      for (int i = 0; i < params.length; i++) {
        s.add(new Sequence(i + 1, PROMPTS[i], MAX_TOKENS, false, params[i]));
      }
      while (s.hasWork()) {
        SchedulerOutput out = s.schedule();
        ModelRunner.StepResult r = runner.execute(out, id -> hostLogits);
        r.sampled().forEach((id, t) -> tokens.computeIfAbsent(id, k -> new ArrayList<>()).add(t));
        s.update(out, r.sampled());
      }
    }
    Map<Long, int[]> result = new TreeMap<>();
    tokens.forEach((id, t) -> result.put(id, t.stream().mapToInt(Integer::intValue).toArray()));
    return result;
  }

  private static void assertSameTokens(Map<Long, int[]> expected, Map<Long, int[]> actual) {
    assertEquals(expected.keySet(), actual.keySet());
    expected.forEach((id, t) -> assertArrayEquals(t, actual.get(id), "tokens of sequence " + id));
  }

  @Test
  void theSameSeedDrawsTheSameTokensTwiceAndAnotherSeedDrawsOthers() {
    Map<Long, int[]> a = decode(3, false, sampled(42), sampled(42), sampled(7));
    Map<Long, int[]> b = decode(3, false, sampled(42), sampled(42), sampled(7));
    assertEquals(MAX_TOKENS, a.get(1L).length);
    assertSameTokens(a, b);
    Map<Long, int[]> other = decode(3, false, sampled(43), sampled(43), sampled(8));
    for (long id : a.keySet()) {
      assertTrue(!Arrays.equals(a.get(id), other.get(id)), "sequence " + id + " with another seed");
    }
  }

  @Test
  void greedySequencesAreUnchangedBesideSampledOnesAndSampledOnesAreNotGreedy() {
    Map<Long, int[]> greedy = decode(3, false, SamplingParams.GREEDY, SamplingParams.GREEDY, SamplingParams.GREEDY);
    Map<Long, int[]> mixed = decode(3, false, SamplingParams.GREEDY, sampled(42), sampled(7));
    assertArrayEquals(greedy.get(1L), mixed.get(1L), "the greedy sequence");
    assertTrue(!Arrays.equals(greedy.get(2L), mixed.get(2L)), "temperature 0.8 drew the greedy tokens");
    Map<Long, int[]> topK1 = decode(3, false, SamplingParams.GREEDY,
        new SamplingParams(0.8f, 0.9f, 1, 42L, new int[0], 0), sampled(7));
    assertArrayEquals(greedy.get(2L), topK1.get(2L), "top-k 1 is greedy whatever the temperature");
  }

  @Test
  void neitherBatchingNorHostLogitsChangeADraw() {
    SamplingParams[] params = {sampled(42), new SamplingParams(1.1f, 0.9f, 40, 5L, new int[0], 0), sampled(7)};
    Map<Long, int[]> batched = decode(3, false, params);
    assertSameTokens(batched, decode(1, false, params));
    assertSameTokens(batched, decode(3, true, params));
  }
}
