package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.KernelFamily;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.StepProfile;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.kernels.cuda.Fatbin;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A profiled decode step on GPU 0 (--profile-steps): an eager run with CUDA events between kernel
 * families picks the tokens a graph replay picks, and its families fill the step's device time but
 * for the input and output copies; tiny and tiny-qwen3 (q/k norms). Skipped (an assumption) without
 * a CUDA device or a fatbin.
 */
@Tag("gpu")
class CudaProfiledStepGpuTest {
  private static final int BLOCK = 16;

  /** tiny-qwen3: its q/k norms run inside the RoPE + KV-append launch, timed as rope_kv_append. */
  @ParameterizedTest
  @ValueSource(strings = {"tiny", "tiny-qwen3"})
  void aProfiledStepPicksTheReplayedTokensAndTimesEveryFamily(String model) {
    CudaDevices.Discovery d = CudaDevices.discover();
    assumeTrue(d.hasDevices(), d::noDeviceLine);
    assumeTrue(Fatbin.isPresent(), Fatbin::absenceReason);
    ModelConfig tiny = ModelConfig.preset(model);
    try (CudaBackend b = new CudaBackend(d.gpus().get(0), CudaSettings.defaults().withMaxGraphBatch(8))) {
      b.loadModel(tiny, 5);
      b.allocateKvCache(256, BLOCK);
      b.fillKvCacheWithNoise(9);
      int n = 8;
      int[] tokens = new int[n];
      int[] positions = new int[n];
      int[] slots = new int[n];
      int[][] tables = new int[n][];
      int[] contexts = new int[n];
      int[] rows = new int[n];
      for (int s = 0; s < n; s++) {
        contexts[s] = 33 + 17 * s;
        tables[s] = new int[(contexts[s] + BLOCK - 1) / BLOCK];
        for (int i = 0; i < tables[s].length; i++) tables[s][i] = s * 24 + i;
        positions[s] = contexts[s] - 1;
        slots[s] = tables[s][positions[s] / BLOCK] * BLOCK + positions[s] % BLOCK;
        tokens[s] = 11 * s + 1;
        rows[s] = s;
      }
      ForwardBatch batch = new ForwardBatch(tokens, positions, slots, tables, contexts, rows);
      int[] replayed = b.forwardGreedy(batch);
      SamplingParams[] greedy = new SamplingParams[n];
      Arrays.fill(greedy, SamplingParams.GREEDY);
      StepProfile.Run run = null;
      for (int i = 0; i < 3; i++) run = b.forwardProfiled(batch, greedy, positions);

      assertArrayEquals(replayed, run.tokens());
      StepProfile p = run.profile();
      double families = p.familyMicros().stream().mapToDouble(Double::doubleValue).sum();
      assertTrue(families <= p.stepMicros() * 1.001, families + " us of families in a " + p.stepMicros() + " us step");
      assertTrue(families >= 0.5 * p.stepMicros(), families + " us of families in a " + p.stepMicros() + " us step");
      assertEquals(n, p.batch());
      for (KernelFamily f : KernelFamily.ALL) {
        if (f == KernelFamily.ALL_REDUCE) continue;
        assertTrue(p.familyMicros().get(f.ordinal()) > 0, f + " timed");
        assertTrue(p.floorMicros().get(f.ordinal()) > 0, f + " has a floor");
      }
    }
  }
}
