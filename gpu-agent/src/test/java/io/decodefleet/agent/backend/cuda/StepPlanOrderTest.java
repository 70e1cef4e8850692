package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.tools.parity.ParitySchedule;
import io.decodefleet.kernels.reference.Argmax;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reordered batch the CUDA backend launches is the same step: run on the CPU backend (the
 * reference, whose rows are as independent as the CUDA launches'), the plan's order gives every
 * sample row the logits the runner's order gives it, step after step of a schedule with fresh,
 * continued and decode rows interleaved.
 */
class StepPlanOrderTest {

  private static final ModelConfig TINY = ModelConfig.preset("tiny");

  @Test
  void theLaunchOrderGivesEverySampleRowTheLogitsOfTheRunnersOrder() {
    ParitySchedule schedule = new ParitySchedule(TINY.vocabSize(), 5, 4, 6, 16);
    int reordered = 0;
    List<float[]> asPlanned = new ArrayList<>();
    List<float[]> asLaunched = new ArrayList<>();
    try (CpuBackend runnerOrder = new CpuBackend(0); CpuBackend launchOrder = new CpuBackend(0)) {
      runnerOrder.loadModel(TINY, 7);
      launchOrder.loadModel(TINY, 7);
      runnerOrder.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
      launchOrder.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
      List<ForwardBatch> batches = new ArrayList<>();
      schedule.run(b -> {
        float[] logits = runnerOrder.forward(b);
        asPlanned.add(logits);
        batches.add(b);
        int[] out = new int[b.numSampled()];
        for (int i = 0; i < out.length; i++) {
          out[i] = Argmax.argmax(logits, i * TINY.vocabSize(), TINY.vocabSize());
        }
        return out;
      });
      for (ForwardBatch b : batches) {
        StepPlan plan = StepPlan.of(b, 16, true, 2);
        reordered += plan.reordered() ? 1 : 0;
        asLaunched.add(launchOrder.forward(plan.batch()));
      }
    }
    assertTrue(reordered > 0, "the schedule has a step whose launch order differs");
    for (int step = 0; step < asPlanned.size(); step++) {
      assertArrayEquals(asPlanned.get(step), asLaunched.get(step), 1e-5f, "step " + step);
    }
  }
}
