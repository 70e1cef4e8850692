package io.decodefleet.agent.tools.parity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.backend.cuda.StepPlan;
import io.decodefleet.agent.engine.BatchBuckets;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.kernels.reference.Argmax;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The parity schedule is a valid decode (its cached logits equal a dense recompute on the CPU
 * backend) and covers each kind of step the CUDA backend tells apart.
 */
class ParityScheduleTest {

  private static final ModelConfig TINY = ModelConfig.preset("tiny");

  @Test
  void cachedLogitsOfTheScheduleEqualTheDenseRecomputeOfEachSequence() {
    ParitySchedule schedule = new ParitySchedule(TINY.vocabSize(), 3, 4, 12, 16);
    Map<Integer, List<float[]>> sampledBySequence = new HashMap<>();
    try (CpuBackend cpu = new CpuBackend(0)) {
      cpu.loadModel(TINY, 3);
      cpu.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
      schedule.run(b -> {
        float[] logits = cpu.forward(b);
        int[] out = new int[b.numSampled()];
        for (int i = 0; i < out.length; i++) {
          out[i] = Argmax.argmax(logits, i * TINY.vocabSize(), TINY.vocabSize());
          int row = b.sampleRows()[i];
          sampledBySequence.computeIfAbsent(schedule.sequenceOf(b.blockTables()[row]), k -> new ArrayList<>())
              .add(java.util.Arrays.copyOfRange(logits, i * TINY.vocabSize(), (i + 1) * TINY.vocabSize()));
        }
        return out;
      });
      int v = TINY.vocabSize();
      for (int s = 0; s < schedule.sequences(); s++) {
        int[] tokens = schedule.tokensOf(s);
        int promptLen = schedule.prompt(s).length;
        float[] dense = cpu.forwardWithoutCache(tokens);
        List<float[]> cached = sampledBySequence.get(s);
        assertEquals(tokens.length - promptLen, cached.size(), "sequence " + s + " sampled once per generated token");
        for (int j = 0; j < cached.size(); j++) {
          int row = promptLen - 1 + j;
          for (int t = 0; t < v; t++) {
            assertEquals(dense[row * v + t], cached.get(j)[t], 1e-4f * 10, "sequence " + s + " step " + j);
          }
        }
      }
    }
  }

  @Test
  void theStepsCoverFreshMixedContinuationAndPaddedDecodeSteps() {
    ParitySchedule schedule = new ParitySchedule(TINY.vocabSize(), 1, 4, 32, 16);
    List<ForwardBatch> batches = schedule.run(b -> new int[b.numSampled()]);
    StepPlan first = StepPlan.of(batches.get(0), 16, true);
    assertEquals(batches.get(0).numTokens(), first.freshRows(), "step 0: prompts only");
    assertEquals(2, first.freshSpans());
    assertEquals(1, batches.get(0).numSampled(), "the cut prompt is not sampled");
    StepPlan second = StepPlan.of(batches.get(1), 16, true, 2);
    assertTrue(second.freshRows() > 0 && second.pagedRows() == 1, "step 1 mixes a prompt, a decode and a chunk");
    assertEquals(1, second.continuedSpans(), "the second prompt's remaining chunk");
    assertTrue(second.reordered(), "the chunk runs ahead of the decode row listed before it");
    assertFalse(second.decodeOnly());
    ForwardBatch third = batches.get(2);
    assertEquals(32, third.positions()[0], "step 2 starts with the fourth prompt past its cached 32 positions");
    assertEquals(32, schedule.cachedTokens(3));
    assertArrayEquals(java.util.Arrays.copyOf(schedule.prompt(2), 32), java.util.Arrays.copyOf(schedule.prompt(3), 32));
    StepPlan hit = StepPlan.of(third, 16, true, 16);
    assertEquals(0, hit.freshRows());
    assertArrayEquals(new int[] {0, 20}, hit.continuedStarts(), "a chunk of 20 rows at positions 32..51");
    assertEquals(3, hit.pagedRows());
    ForwardBatch fourth = batches.get(3);
    StepPlan rest = StepPlan.of(fourth, 16, true, 16);
    assertArrayEquals(new int[] {0, 18}, rest.continuedStarts(), "the remaining 18 rows, positions 52..69");
    assertEquals(52, rest.batch().positions()[0]);
    assertTrue(rest.reordered(), "launched ahead of the three decode rows listed before it");
    assertEquals(3, rest.pagedRows());
    boolean padded = false;
    boolean fullDecode = false;
    for (ForwardBatch b : batches.subList(4, batches.size())) {
      StepPlan p = StepPlan.of(b, 16, true);
      assertTrue(p.decodeOnly(), "after step 3 every step is pure decode");
      fullDecode |= b.numTokens() == 4;
      padded |= BatchBuckets.bucketOf(b.numTokens()) > b.numTokens();
    }
    assertTrue(fullDecode && padded, "decode steps at batch 4 and, after one sequence stops, padded ones");
  }
}
