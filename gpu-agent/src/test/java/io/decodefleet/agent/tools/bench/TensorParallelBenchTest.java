package io.decodefleet.agent.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.tp.Parallelism;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The table of {@code bench tp --expert-parallel}: data parallelism over K GPUs at a batch is K
 * replicas each running batch / K on one GPU, so its tokens per second come from one GPU's row at
 * that smaller batch.
 */
class TensorParallelBenchTest {

  private static final List<TensorParallelBench.StepRow> STEPS = List.of(
      new TensorParallelBench.StepRow(1, 8, "eager", "eager", 900, 1000, 500),
      new TensorParallelBench.StepRow(1, 16, "eager", "eager", 1900, 2000, 500),
      new TensorParallelBench.StepRow(2, 16, "eager", "eager", 900, 1250, 260),
      new TensorParallelBench.StepRow(1, 1, "eager", "eager", 400, 500, 100),
      new TensorParallelBench.StepRow(2, 1, "eager", "eager", 300, 400, 60));
  private static final TensorParallelBench.Result RESULT = new TensorParallelBench.Result("2 x test GPU", 2, 3e6,
      List.of(), STEPS, Parallelism.EXPERT);

  @Test
  void dataParallelThroughputIsKReplicasOfOneGpuAtBatchOverK() {
    // 16 tokens a step, each GPU at batch 8 taking 1000 us: 16 000 tokens/s.
    assertEquals(16_000, TensorParallelBench.dataParallelTokensPerSecond(RESULT, STEPS.get(1)), 1e-9);
    assertTrue(Double.isNaN(TensorParallelBench.dataParallelTokensPerSecond(RESULT, STEPS.get(3))),
        "batch 1 cannot split over 2 replicas");
    assertTrue(Double.isNaN(TensorParallelBench.dataParallelTokensPerSecond(RESULT, STEPS.get(0))),
        "batch 4 was not timed");
  }

  @Test
  void theExpertParallelTableSetsEpBesideOneGpuAndDp() {
    String table = TensorParallelBench.render(RESULT);
    assertTrue(table.contains("expert parallelism on 2 x test GPU"), table);
    assertTrue(table.contains("ep2/ep1") && table.contains("dp2 tok/s"), table);
    String row16 = table.lines().filter(l -> l.matches("eager\\s+16 .*")).findFirst().orElseThrow();
    // one GPU 2000 us (8000 tok/s), ep2 1250 us (12800 tok/s, 0.63 of one GPU's time), dp2 16000 tok/s
    assertTrue(row16.matches(".*\\s0\\.63\\s+8000\\s+12800\\s+16000"), row16);
    String row1 = table.lines().filter(l -> l.matches("eager\\s+1 .*")).findFirst().orElseThrow();
    assertTrue(row1.endsWith(" -"), row1);
  }
}
