package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelRunnerTest {
  private static final ModelConfig TINY = ModelConfig.preset("tiny");
  private static final int V = TINY.vocabSize();

  private static CpuBackend backend(int blocks, int blockSize) {
    CpuBackend b = new CpuBackend(8L << 20);
    b.loadModel(TINY, 77);
    b.allocateKvCache(blocks, blockSize);
    return b;
  }

  /** Preemptions of the last decode() call. */
  private static int lastPreemptions;

  /** Decodes the prompts to the end; returns every sampled logits row per sequence, in order. */
  private static Map<Long, List<float[]>> decode(int budget, int maxNumSeqs, int blocks, int[]... prompts) {
    Map<Long, List<float[]>> logits = new HashMap<>();
    lastPreemptions = 0;
    try (CpuBackend b = backend(blocks, 4)) {
      Scheduler s = new Scheduler(new SchedulerConfig(maxNumSeqs, budget, 1000), new KvBlockManager(blocks, 4));
      ModelRunner runner = new ModelRunner(b, 4, V);
      for (int i = 0; i < prompts.length; i++) s.add(new Sequence(i + 1, prompts[i], 5));
      while (s.hasWork()) {
        SchedulerOutput out = s.schedule();
        lastPreemptions += out.preemptedIds().size();
        ModelRunner.StepResult r = runner.execute(out);
        assertEquals(out.totalScheduledTokens(), r.numTokens());
        assertEquals(r.sampled().keySet(), r.logits().keySet());
        for (var e : r.logits().entrySet()) {
          assertEquals(V, e.getValue().length);
          int argmax = 0;
          for (int v = 1; v < V; v++) if (e.getValue()[v] > e.getValue()[argmax]) argmax = v;
          assertEquals(argmax, r.sampled().get(e.getKey()), "greedy sampling");
          logits.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue());
        }
        s.update(out, r.sampled());
      }
    }
    return logits;
  }

  private static void assertBitIdentical(Map<Long, List<float[]>> a, Map<Long, List<float[]>> b) {
    assertEquals(a.keySet(), b.keySet());
    for (long id : a.keySet()) {
      assertEquals(a.get(id).size(), b.get(id).size());
      for (int i = 0; i < a.get(id).size(); i++) {
        assertArrayEquals(a.get(id).get(i), b.get(id).get(i), 0f, "sequence " + id + " step " + i);
      }
    }
  }

  private static final int[] P1 = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 12, 13};
  private static final int[] P2 = {100, 200, 300};
  private static final int[] P3 = {1000, 1, 1000, 1, 1000, 1, 7};

  @Test
  void chunkedPrefillAndBatchingGiveBitIdenticalLogits() {
    Map<Long, List<float[]>> oneShot = decode(1000, 1, 64, P1, P2, P3);
    Map<Long, List<float[]>> chunked = decode(3, 3, 64, P1, P2, P3);
    assertEquals(5, oneShot.get(1L).size());
    assertBitIdentical(oneShot, chunked);
  }

  @Test
  void preemptionByRecomputeGivesBitIdenticalLogits() {
    Map<Long, List<float[]>> roomy = decode(16, 3, 64, P1, P2, P3);
    Map<Long, List<float[]>> tight = decode(16, 3, 6, P1, P2, P3); // 24 slots for 18 + 8 + 12 tokens
    assertTrue(lastPreemptions > 0, "the tight pool was meant to preempt");
    assertBitIdentical(roomy, tight);
  }

  @Test
  void cachedDiffForASequenceTheRunnerDoesNotHoldThrows() {
    try (CpuBackend b = backend(8, 4)) {
      ModelRunner runner = new ModelRunner(b, 4, V);
      SchedulerOutput orphan = new SchedulerOutput(List.of(),
          List.of(new SchedulerOutput.CachedSequence(1, new int[0], 3, 1)), 1, List.of(), List.of());
      assertThrows(IllegalStateException.class, () -> runner.execute(orphan));
    }
  }

  @Test
  void finishedAndPreemptedIdsAreDropped() {
    try (CpuBackend b = backend(8, 4)) {
      ModelRunner runner = new ModelRunner(b, 4, V);
      var start = new SchedulerOutput(
          List.of(new SchedulerOutput.NewSequence(1, new int[] {1, 2, 3}, new int[] {0}, 0, 3),
              new SchedulerOutput.NewSequence(2, new int[] {4, 5}, new int[] {1}, 0, 2)),
          List.of(), 5, List.of(), List.of());
      ModelRunner.StepResult r = runner.execute(start);
      assertEquals(2, r.sampled().size());

      var decodeBoth = new SchedulerOutput(List.of(), List.of(new SchedulerOutput.CachedSequence(1, new int[0], 3, 1),
          new SchedulerOutput.CachedSequence(2, new int[0], 2, 1)), 2, List.of(), List.of());
      assertEquals(2, runner.execute(decodeBoth).sampled().size());

      var drop1 = new SchedulerOutput(List.of(), List.of(new SchedulerOutput.CachedSequence(1, new int[0], 4, 1)), 1,
          List.of(1L), List.of());
      assertThrows(IllegalStateException.class, () -> runner.execute(drop1), "preempted state must be dropped");
      var drop2 = new SchedulerOutput(List.of(), List.of(new SchedulerOutput.CachedSequence(2, new int[0], 3, 1)), 1,
          List.of(), List.of(2L));
      assertThrows(IllegalStateException.class, () -> runner.execute(drop2), "finished state must be dropped");
    }
  }

  @Test
  void emptyStepRunsNothing() {
    try (CpuBackend b = backend(8, 4)) {
      ModelRunner runner = new ModelRunner(b, 4, V);
      ModelRunner.StepResult r = runner.execute(new SchedulerOutput(List.of(), List.of(), 0, List.of(), List.of(7L)));
      assertTrue(r.sampled().isEmpty());
      assertEquals(0, r.numTokens());
    }
  }
}
