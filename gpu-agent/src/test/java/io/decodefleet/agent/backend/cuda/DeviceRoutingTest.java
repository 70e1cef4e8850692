package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.tools.parity.ParitySchedule;
import io.decodefleet.kernels.reference.MoeRouter;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A routing given from the host (the CPU backend's, in the batch's row order) reaches each launch
 * row of a reordered step as that row's own, and the device's routing read back returns to the
 * batch's order: the parity check compares routings and logits row for row only through this.
 */
class DeviceRoutingTest {

  @Test
  void aRoutingMovesToTheLaunchOrderAndBackRowForRow() {
    int k = 2;
    int[] order = {3, 4, 0, 1, 2}; // launch row i is batch row order[i]
    int[] experts = new int[order.length * k];
    float[] weights = new float[order.length * k];
    for (int row = 0; row < order.length; row++) {
      for (int j = 0; j < k; j++) {
        experts[row * k + j] = 10 * row + j;
        weights[row * k + j] = row + 0.25f * j;
      }
    }
    MoeRouter.Routing batchOrder = new MoeRouter.Routing(order.length, k, experts, weights);
    MoeRouter.Routing launched = DeviceRouting.permute(batchOrder, order, true);
    for (int i = 0; i < order.length; i++) {
      for (int j = 0; j < k; j++) {
        assertTrue(launched.expert(i, j) == batchOrder.expert(order[i], j), "launch row " + i);
        assertTrue(launched.weight(i, j) == batchOrder.weight(order[i], j), "launch row " + i);
      }
    }
    MoeRouter.Routing back = DeviceRouting.permute(launched, order, false);
    assertArrayEquals(experts, back.experts());
    assertArrayEquals(weights, back.weights());
    assertThrows(IllegalArgumentException.class, () -> DeviceRouting.permute(batchOrder, new int[] {0, 1}, true));
  }

  /** The parity schedule of a model with q/k norms at group 4 has a step the plan reorders. */
  @Test
  void theParityScheduleOfAGroupOfFourModelHasAReorderedStep() {
    ModelConfig c = ModelConfig.preset("tiny-qwen3-moe");
    ParitySchedule schedule = new ParitySchedule(c.vocabSize(), 0, 4, 4, 16);
    List<ForwardBatch> batches = schedule.run(b -> new int[b.numSampled()]);
    int minRows = io.decodefleet.kernels.cuda.PagedPrefillAttentionParams.rowsPerCta(c.numAttentionHeads(),
        c.numKeyValueHeads());
    boolean reordered = false;
    for (ForwardBatch b : batches) reordered |= StepPlan.of(b, 16, true, minRows).reordered();
    assertTrue(reordered, "a continued span grouped ahead of decode rows listed before it");
  }
}
