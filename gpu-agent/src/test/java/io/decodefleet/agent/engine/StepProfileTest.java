package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Profiled decode steps (--profile-steps) on the CPU backend: what they time, and which steps are profiled. */
class StepProfileTest {
  private static final ModelConfig TINY = ModelConfig.preset("tiny");
  private static final int BLOCK = 16;

  private final List<Engine> engines = new ArrayList<>();

  @AfterEach
  void stopEngines() throws InterruptedException {
    for (Engine e : engines) e.stop();
    for (Engine e : engines) e.awaitTermination(5000);
  }

  /** Four sequences decoding at contexts 21, 40, 57 and 100, each in its own blocks. */
  private static ForwardBatch decodeBatch() {
    int[] contexts = {21, 40, 57, 100};
    int n = contexts.length;
    int[] tokens = new int[n];
    int[] positions = new int[n];
    int[] slots = new int[n];
    int[][] tables = new int[n][];
    int[] rows = new int[n];
    for (int s = 0; s < n; s++) {
      int blocks = (contexts[s] + BLOCK - 1) / BLOCK;
      tables[s] = new int[blocks];
      for (int b = 0; b < blocks; b++) tables[s][b] = s * 8 + b;
      positions[s] = contexts[s] - 1;
      slots[s] = tables[s][positions[s] / BLOCK] * BLOCK + positions[s] % BLOCK;
      tokens[s] = 7 * s + 3;
      rows[s] = s;
    }
    return new ForwardBatch(tokens, positions, slots, tables, contexts, rows);
  }

  @Test
  void aProfiledStepPicksTheGreedyTokensAndItsFamiliesAddUpToTheStep() {
    try (CpuBackend backend = new CpuBackend()) {
      backend.loadModel(TINY, 5);
      backend.allocateKvCache(64, BLOCK);
      ForwardBatch batch = decodeBatch();
      SamplingParams[] greedy = new SamplingParams[batch.numSampled()];
      java.util.Arrays.fill(greedy, SamplingParams.GREEDY);
      int[] expected = backend.forwardGreedy(batch);

      double step = 0;
      double families = 0;
      StepProfile last = null;
      for (int i = 0; i < 5; i++) {
        StepProfile.Run run = backend.forwardProfiled(batch, greedy, batch.positions());
        assertArrayEquals(expected, run.tokens(), "the same step writes the same K/V and picks the same tokens");
        last = run.profile();
        step += last.stepMicros();
        families += last.familyMicros().stream().mapToDouble(Double::doubleValue).sum();
      }
      assertTrue(families <= step, families + " us of families in " + step + " us of steps");
      // Loose on purpose (host time between families varies with load; not a speed test).
      assertTrue(families >= 0.75 * step, "the families cover the step: " + families + " of " + step + " us");
      assertEquals(4, last.batch());
      for (KernelFamily f : KernelFamily.ALL) {
        double us = last.familyMicros().get(f.ordinal());
        double floor = last.floorMicros().get(f.ordinal());
        if (f == KernelFamily.ALL_REDUCE) {
          assertEquals(0.0, us, "one device: no all-reduce");
          assertTrue(Double.isNaN(floor), "no byte floor for the all-reduce");
        } else {
          assertTrue(us > 0, f + " timed");
          assertTrue(floor > 0 && Double.isFinite(floor), f + " floor " + floor);
        }
      }
    }
  }

  @Test
  void bytesCountWeightsOnceKvByContextAndEveryOutputOnce() {
    ForwardBatch batch = decodeBatch(); // 4 rows, each sampled
    double[] bytes = StepBytes.of(TINY, batch, 4);
    double layers = TINY.numHiddenLayers();
    double h = TINY.hiddenSize();
    double q = TINY.qSize();
    double kv = TINY.kvSize();
    double qkv = q + 2 * kv;
    double inter = TINY.intermediateSize();
    double vocab = TINY.vocabSize();
    assertEquals(2 * 4 * h * 4, bytes[KernelFamily.EMBEDDING.ordinal()], 1e-6, "rows in, hidden states out");
    assertEquals(((2 * layers + 1) * h + 2 * (4 * layers + 1) * 4 * h) * 4, bytes[KernelFamily.NORM.ordinal()], 1e-6);
    assertEquals(layers * (h * qkv + 4 * h + 4 * qkv) * 4, bytes[KernelFamily.QKV_PROJ.ordinal()], 1e-6);
    double context = 21 + 40 + 57 + 100;
    assertEquals(layers * (context * 2 * kv + 2 * 4 * q) * 4, bytes[KernelFamily.ATTENTION.ordinal()], 1e-6);
    assertEquals(layers * (q * h + 4 * q + 4 * h) * 4, bytes[KernelFamily.O_PROJ.ordinal()], 1e-6);
    assertEquals(layers * (2 * inter * h + 4 * h + 4 * 2 * inter) * 4, bytes[KernelFamily.GATE_UP_PROJ.ordinal()],
        1e-6);
    assertEquals(layers * 4 * 3 * inter * 4, bytes[KernelFamily.ACTIVATION.ordinal()], 1e-6, "gate, up in; one out");
    assertEquals(layers * (inter * h + 4 * inter + 4 * h) * 4, bytes[KernelFamily.DOWN_PROJ.ordinal()], 1e-6);
    assertEquals((vocab * h + 4 * h + 4 * vocab) * 4, bytes[KernelFamily.LM_HEAD.ordinal()], 1e-6);
    assertEquals(4 * vocab * 4 + 4 * 4, bytes[KernelFamily.SAMPLING.ordinal()], 1e-6);
    assertTrue(Double.isNaN(bytes[KernelFamily.ALL_REDUCE.ordinal()]));
    // q, k, v in; q and k rotated out, and the new K and V into the cache.
    assertEquals(layers * (4 * qkv + 4 * (q + 3 * kv)) * 4, bytes[KernelFamily.ROPE_KV.ordinal()], 1e-6);
    // q/k norms: their two (headDim) weights per layer are read by the RoPE + KV-append launch.
    ModelConfig qwen = ModelConfig.preset("tiny-qwen3");
    double qwenQkv = qwen.qSize() + 2.0 * qwen.kvSize();
    double qwenOut = qwen.qSize() + 3.0 * qwen.kvSize();
    assertEquals(qwen.numHiddenLayers() * (4 * qwenQkv + 2 * qwen.headDim() + 4 * qwenOut) * 2,
        StepBytes.of(qwen, batch, 2)[KernelFamily.ROPE_KV.ordinal()], 1e-6);
    // Qwen2's q/k/v biases, read by the same launch.
    ModelConfig biased = ModelConfig.preset("tiny-qwen2");
    assertEquals(layers * (4 * qkv + qkv + 4 * (q + 3 * kv)) * 2,
        StepBytes.of(biased, batch, 2)[KernelFamily.ROPE_KV.ordinal()], 1e-6);
    // FP8 codes and an FP8 cache: a byte a weight of the layer projections and a byte a cached element;
    // activations, norms and the head stay at two.
    double[] fp8 = StepBytes.of(TINY, batch, 2, 1, 1);
    assertEquals(layers * (h * qkv + (4 * h + 4 * qkv) * 2), fp8[KernelFamily.QKV_PROJ.ordinal()], 1e-6);
    assertEquals(layers * (q * h + (4 * q + 4 * h) * 2), fp8[KernelFamily.O_PROJ.ordinal()], 1e-6);
    assertEquals(layers * (2 * inter * h + (4 * h + 4 * 2 * inter) * 2), fp8[KernelFamily.GATE_UP_PROJ.ordinal()],
        1e-6);
    assertEquals(layers * (inter * h + (4 * inter + 4 * h) * 2), fp8[KernelFamily.DOWN_PROJ.ordinal()], 1e-6);
    assertEquals(layers * (context * 2 * kv + 2 * 4 * q * 2), fp8[KernelFamily.ATTENTION.ordinal()], 1e-6);
    assertEquals((vocab * h + 4 * h + 4 * vocab) * 2, fp8[KernelFamily.LM_HEAD.ordinal()], 1e-6);
    assertArrayEquals(StepBytes.of(TINY, batch, 2), StepBytes.of(TINY, batch, 2, 2, 2), 1e-6);
  }

  @Test
  void theEngineProfilesTheFirstDecodeStepsOfEachBusySpell() throws Exception {
    EngineTest.Collector c = new EngineTest.Collector();
    ModelSpec spec = new ModelSpec("tiny", 3, BLOCK, 64, 8, 64, 0.0).withProfileSteps(2);
    Engine engine = new Engine("profiled", spec, CpuBackend::new, c);
    engines.add(engine);
    engine.start();
    c.next(EngineEvent.Loaded.class);
    for (int spell = 0; spell < 2; spell++) {
      List<SequenceSpec> seqs = List.of(EngineTest.seq(10 * spell + 1, 9, 6), EngineTest.seq(10 * spell + 2, 12, 6),
          EngineTest.seq(10 * spell + 3, 5, 6));
      engine.submit(seqs);
      Set<Long> ids = new HashSet<>();
      seqs.forEach(s -> ids.add(s.sequenceId()));
      EngineTest.Run run = EngineTest.collect(c, ids);
      List<EngineEvent.Stepped> profiled = run.steps.stream().filter(s -> s.profile() != null).toList();
      assertEquals(2, profiled.size(), "spell " + spell + ": the first two decode steps");
      for (EngineEvent.Stepped s : profiled) {
        assertEquals(s.numSequences(), s.scheduledTokens(), "a decode-only step: one token per sequence");
        assertEquals(s.numSequences(), s.profile().batch());
      }
      EngineEvent.Stepped first = run.steps.stream().filter(s -> s.scheduledTokens() > s.numSequences())
          .findFirst().orElseThrow();
      assertNull(first.profile(), "a prefill step is not profiled");
      // The engine is idle now: the next submission starts a new busy spell.
    }
  }
}
