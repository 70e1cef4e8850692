package io.decodefleet.agent.engine.tp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.ExpertLoad;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.MoeConfig;
import io.decodefleet.agent.engine.MoeRouterPolicy;
import io.decodefleet.agent.engine.Sampler;
import io.decodefleet.agent.tools.parity.ParitySchedule;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A mixture of experts on the CPU backend: on one device, split by tensor parallelism, and split by
 * expert parallelism (experts spread over the ranks, each rank attending its own sequences), the
 * greedy tokens and logits of EP=K equal EP=1's bit for bit, with the same expert load.
 */
class ExpertParallelBackendTest {

  private static final ModelConfig TINY_MOE = ModelConfig.preset("tiny-moe");

  static TensorParallelBackend expertGroup(int size) {
    List<Supplier<Backend>> ranks = new ArrayList<>();
    for (int r = 0; r < size; r++) ranks.add(() -> new CpuBackend(CpuTensorGroups.KV_BYTES));
    return new TensorParallelBackend("test", ranks, CpuTensorGroups.TIMEOUT, Parallelism.EXPERT);
  }

  /** Every step's logits and expert load on {@code b}, through the whole parity schedule (greedy). */
  private record Trace(List<float[]> logits, List<ExpertLoad> loads, List<List<Integer>> tokens) {}

  private static Trace trace(Backend b, ModelLoad load, ParitySchedule schedule) {
    b.loadModel(load);
    b.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
    List<float[]> logits = new ArrayList<>();
    List<ExpertLoad> loads = new ArrayList<>();
    List<List<Integer>> tokens = new ArrayList<>();
    schedule.run(batch -> {
      float[] x = b.forward(batch);
      logits.add(x);
      loads.add(b.lastExpertLoad());
      Sampler sampler = new Sampler(TINY_MOE.vocabSize());
      int[] picked = new int[batch.numSampled()];
      List<Integer> step = new ArrayList<>();
      for (int i = 0; i < picked.length; i++) {
        picked[i] = sampler.sample(x, i);
        step.add(picked[i]);
      }
      tokens.add(step);
      return picked;
    });
    return new Trace(logits, loads, tokens);
  }

  @Test
  void expertParallelTokensLogitsAndLoadsEqualOneDevicesExactly() {
    ModelLoad load = ModelLoad.dummy(TINY_MOE, 5);
    ParitySchedule schedule = new ParitySchedule(TINY_MOE.vocabSize(), 9, 4, 6, 16);
    Trace one;
    try (CpuBackend single = new CpuBackend(CpuTensorGroups.KV_BYTES)) {
      one = trace(single, load, schedule);
    }
    for (int k : new int[] {2, 4}) {
      try (TensorParallelBackend group = expertGroup(k)) {
        Trace ep = trace(group, load, schedule);
        assertEquals(one.tokens(), ep.tokens(), "EP=" + k + " greedy tokens");
        for (int s = 0; s < one.logits().size(); s++) {
          assertArrayEquals(one.logits().get(s), ep.logits().get(s), "EP=" + k + " logits of step " + s);
        }
        assertEquals(one.loads(), ep.loads(), "EP=" + k + " expert load");
        assertTrue(group.deviceDescription().startsWith("expert-parallel x" + k), group.deviceDescription());
        // Both ranks' sequences were attended: the schedule's first blocks fall on every rank.
        int[] prompt = schedule.prompt(1);
        float[] dense = group.forwardWithoutCache(prompt);
        try (CpuBackend single = new CpuBackend(CpuTensorGroups.KV_BYTES)) {
          single.loadModel(load);
          assertArrayEquals(single.forwardWithoutCache(prompt), dense, "EP=" + k + " dense recompute");
        }
      }
    }
    ExpertLoad first = one.loads().get(0);
    // Step 1: prompts of 5 and 9 tokens (the second cut in half), top-2 of 8 experts, every layer.
    for (int l = 0; l < TINY_MOE.numHiddenLayers(); l++) assertEquals(2 * (5 + 9), first.layerTokens(l));
    assertTrue(first.maxImbalance() >= 1.0, first.describe());
  }

  @Test
  void capacityDropsTheSameTokensOnEveryLayoutAndCountsThem() {
    ModelLoad load = ModelLoad.dummy(TINY_MOE, 5).with(MoeRouterPolicy.parse("capacity:1.0"));
    ParitySchedule schedule = new ParitySchedule(TINY_MOE.vocabSize(), 9, 4, 3, 16);
    Trace one;
    Trace plain;
    try (CpuBackend single = new CpuBackend(CpuTensorGroups.KV_BYTES);
        CpuBackend uncapped = new CpuBackend(CpuTensorGroups.KV_BYTES)) {
      one = trace(single, load, schedule);
      plain = trace(uncapped, ModelLoad.dummy(TINY_MOE, 5), schedule);
    }
    try (TensorParallelBackend group = expertGroup(2)) {
      Trace ep = trace(group, load, schedule);
      assertEquals(one.tokens(), ep.tokens());
      assertEquals(one.loads(), ep.loads());
    }
    ExpertLoad first = one.loads().get(0);
    long dropped = 0;
    for (int l = 0; l < first.layers(); l++) {
      dropped += first.layerDropped(l);
      assertEquals(2 * (5 + 9), first.layerTokens(l) + first.layerDropped(l), "routed pairs of layer " + l);
      // capacity ceil(1.0 * 14 * 2 / 8) = 4 tokens per expert
      for (int e = 0; e < first.experts(); e++) assertTrue(first.tokens(l, e) <= 4);
    }
    assertTrue(dropped > 0, first.describe());
    assertNotEquals(plain.logits().get(0)[0], one.logits().get(0)[0], "dropping tokens changes the logits");
  }

  @Test
  void tensorParallelSplitsEachExpertsWidthUpToSummationOrder() {
    ParitySchedule schedule = new ParitySchedule(TINY_MOE.vocabSize(), 3, 2, 4, 16);
    ModelLoad load = ModelLoad.dummy(TINY_MOE, 11);
    try (CpuBackend single = new CpuBackend(CpuTensorGroups.KV_BYTES);
        TensorParallelBackend group = CpuTensorGroups.of(2)) {
      Trace a = trace(single, load, schedule);
      Trace b = trace(group, load, schedule);
      for (int s = 0; s < a.logits().size(); s++) {
        float[] x = a.logits().get(s);
        float[] y = b.logits().get(s);
        for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], 1e-4f * Math.max(1f, Math.abs(x[i])));
      }
    }
  }

  @Test
  void qkNormedExpertsDecodeAsTheirDenseRecompute() {
    // Qwen3-MoE's shape in small: q/k norms, experts narrower than the dense width, top-3 of 6 unnormalised.
    ModelConfig qwen = new ModelConfig("qwen3-moe-small", 64, 128, 4, 2, 2, 256, 1e6, 1e-6f, 32, 512, false, false,
        true, new MoeConfig(6, 3, 48, false));
    int[] prompt = {3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26, 43, 38, 32, 79, 50, 28};
    int n = prompt.length;
    int[] positions = new int[n];
    int[] slots = new int[n];
    int[][] tables = new int[n][];
    int[] context = new int[n];
    for (int i = 0; i < n; i++) {
      positions[i] = i;
      slots[i] = (i < 16 ? 4 * 16 : 2 * 16) + i % 16;
      tables[i] = new int[] {4, 2};
      context[i] = i + 1;
    }
    try (CpuBackend cpu = new CpuBackend(CpuTensorGroups.KV_BYTES)) {
      cpu.loadModel(ModelLoad.dummy(qwen, 2));
      cpu.allocateKvCache(8, 16);
      int[] all = java.util.stream.IntStream.range(0, n).toArray();
      float[] cached = cpu.forward(new ForwardBatch(prompt, positions, slots, tables, context, all));
      float[] dense = cpu.forwardWithoutCache(prompt);
      for (int i = 0; i < dense.length; i++) {
        assertEquals(dense[i], cached[i], 1e-4f * Math.max(1f, Math.abs(dense[i])), "logit " + i);
      }
      assertEquals(n * 3, cpu.lastExpertLoad().layerTokens(1));
    }
  }

  @Test
  void allReducesAreCountedOnlyForRanksThatCompleteEachExpertLayerWithOne() {
    ParitySchedule schedule = new ParitySchedule(TINY_MOE.vocabSize(), 3, 2, 4, 16);
    ModelLoad load = ModelLoad.dummy(TINY_MOE, 5);
    try (TensorParallelBackend cpuRanks = expertGroup(2)) {
      trace(cpuRanks, load, schedule);
      assertEquals(io.decodefleet.agent.engine.AllReduceTraffic.NONE, cpuRanks.allReduceTraffic(),
          "CPU ranks exchange rows: no all-reduce");
    }
    List<Supplier<Backend>> ranks = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      // A real CPU rank that says it completes each expert layer with an all-reduce, as a GPU rank does.
      ranks.add(() -> new ForwardingBackend(new CpuBackend(CpuTensorGroups.KV_BYTES)) {
        @Override
        public boolean expertLayersAllReduce() {
          return true;
        }
      });
    }
    try (TensorParallelBackend allReducing = new TensorParallelBackend("test", ranks, CpuTensorGroups.TIMEOUT,
        Parallelism.EXPERT)) {
      allReducing.loadModel(load);
      allReducing.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
      long[] stepsAndTokens = new long[2];
      schedule.run(batch -> {
        stepsAndTokens[0]++;
        stepsAndTokens[1] += batch.numTokens();
        float[] x = allReducing.forward(batch);
        Sampler sampler = new Sampler(TINY_MOE.vocabSize());
        int[] picked = new int[batch.numSampled()];
        for (int i = 0; i < picked.length; i++) picked[i] = sampler.sample(x, i);
        return picked;
      });
      long layers = TINY_MOE.numHiddenLayers();
      assertTrue(stepsAndTokens[0] > 1);
      assertEquals(new io.decodefleet.agent.engine.AllReduceTraffic(layers * stepsAndTokens[0],
          layers * stepsAndTokens[1] * TINY_MOE.hiddenSize() * 4), allReducing.allReduceTraffic());
    }
  }

  @Test
  void expertParallelismRefusesADenseModelAndExpertsThatDoNotSplit() {
    try (TensorParallelBackend group = expertGroup(2)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> group.loadModel(ModelConfig.preset("tiny"), 1));
      assertEquals("model tiny has no experts: expert parallelism needs a mixture of experts", e.getMessage());
    }
    ModelConfig six = new ModelConfig("six", 64, 64, 4, 2, 1, 128, 1e4, 1e-5f, 16, 256, false, false, false,
        new MoeConfig(6, 2, 32, true));
    try (TensorParallelBackend group = expertGroup(4)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> group.loadModel(six, 1));
      assertEquals("model six cannot be split 4 ways: num_experts 6 is not a multiple of 4", e.getMessage());
    }
  }
}
