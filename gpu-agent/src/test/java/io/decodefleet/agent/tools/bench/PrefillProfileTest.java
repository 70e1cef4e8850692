package io.decodefleet.agent.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.KernelFamily;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.StepFlops;
import io.decodefleet.agent.engine.StepProfile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** bench step's prefill points with --profile-steps: a prompt's families, floors by bytes or by FLOPs. */
class PrefillProfileTest {
  private static final ModelConfig TINY = ModelConfig.preset("tiny");

  private static StepBench.Options options(int profileSteps) {
    return new StepBench.Options("tiny", new int[] {1}, new int[] {16}, new int[] {48}, List.of(), 1, 3, 7L, null,
        profileSteps);
  }

  @Test
  void aProfiledPromptTimesEveryFamilyOfOneDeviceAndItsFloorsAreTheLargerOfBytesAndFlops() {
    try (CpuBackend b = new CpuBackend()) {
      b.loadModel(TINY, 3);
      b.allocateKvCache(32, 16);
      double copy = 1e4; // bytes per µs
      double gemm = 50.0; // FLOPs per µs: slow enough that the projections' FLOPs bind
      StepBench.PrefillRow r = StepBench.prefillPoint(b, TINY, options(2), 48, 0, 1L << 20, copy, gemm);
      assertEquals(48, r.tokens());
      StepProfile p = r.profile();
      assertTrue(p != null, "profiled");
      assertEquals(1, p.batch(), "one prompt, one sample row");
      // The CPU has no device clock: no enqueue time or idle gap.
      assertTrue(Double.isNaN(r.hostUs()) && Double.isNaN(r.gapUs()));
      ForwardBatch prompt = promptOf(48);
      double[] flops = StepFlops.of(TINY, prompt);
      for (KernelFamily f : KernelFamily.ALL) {
        double us = p.familyMicros().get(f.ordinal());
        double floor = p.floorMicros().get(f.ordinal());
        if (f == KernelFamily.ALL_REDUCE) {
          assertEquals(0.0, us);
          assertTrue(Double.isNaN(floor));
          continue;
        }
        assertTrue(us > 0, f + " timed");
        assertTrue(floor >= flops[f.ordinal()] / gemm - 1e-9, f + ": floor " + floor + " below its FLOPs' time");
      }
      // The projections' FLOPs at 50 FLOP/µs exceed their bytes at 1e4 B/µs: the floor is the FLOPs'.
      assertEquals(flops[KernelFamily.GATE_UP_PROJ.ordinal()] / gemm,
          p.floorMicros().get(KernelFamily.GATE_UP_PROJ.ordinal()), 1e-6);
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      StepBench.printPrefill(new PrintStream(buf, true, StandardCharsets.UTF_8), r);
      String printed = buf.toString(StandardCharsets.UTF_8);
      assertTrue(printed.contains("prefill T=48") && printed.contains("gate_up_proj"), printed);

      assertNull(StepBench.prefillPoint(b, TINY, options(0), 48, 0, 1L << 20, copy, gemm).profile(), "not asked");
    }
  }

  @Test
  void flopsCountEachProjectionTwicePerMultiplyAddAndAttentionOverEachRowsContext() {
    ForwardBatch prompt = promptOf(48);
    double[] flops = StepFlops.of(TINY, prompt);
    double layers = TINY.numHiddenLayers();
    double h = TINY.hiddenSize();
    assertEquals(layers * 2 * 48 * h * (TINY.qSize() + 2.0 * TINY.kvSize()), flops[KernelFamily.QKV_PROJ.ordinal()],
        1e-3);
    assertEquals(layers * 2 * 48 * h * 2.0 * TINY.intermediateSize(), flops[KernelFamily.GATE_UP_PROJ.ordinal()], 1e-3);
    assertEquals(layers * 2 * 48 * TINY.intermediateSize() * h, flops[KernelFamily.DOWN_PROJ.ordinal()], 1e-3);
    assertEquals(2 * h * TINY.vocabSize(), flops[KernelFamily.LM_HEAD.ordinal()], 1e-3, "one sample row");
    double contexts = 48.0 * 49 / 2; // row i attends i + 1 positions
    assertEquals(layers * 4 * TINY.headDim() * TINY.numAttentionHeads() * contexts,
        flops[KernelFamily.ATTENTION.ordinal()], 1e-3);
    assertEquals(0.0, flops[KernelFamily.NORM.ordinal()]);
    // The sum of the matmul families is bench step's prefill FLOPs.
    double sum = 0;
    for (double v : flops) sum += v;
    assertEquals(PromptSteps.prefillFlops(TINY, 48), sum, 1e-6 * sum);
  }

  @Test
  void aPromptsRowsReadItsKvOnceBetweenThemInTheByteFloor() {
    ForwardBatch prompt = promptOf(48);
    double[] bytes = io.decodefleet.agent.engine.StepBytes.of(TINY, prompt, 2);
    double layers = TINY.numHiddenLayers();
    // 48 positions of K and V once (the rows share the prompt's block table), not 48 * 49 / 2.
    assertEquals(layers * (48.0 * 2 * TINY.kvSize() + 2 * 48.0 * TINY.qSize()) * 2,
        bytes[KernelFamily.ATTENTION.ordinal()], 1e-6);
  }

  private static ForwardBatch promptOf(int t) {
    int[] tokens = new int[t];
    for (int i = 0; i < t; i++) tokens[i] = i % TINY.vocabSize();
    return PromptSteps.prompt(tokens, 0);
  }

}
