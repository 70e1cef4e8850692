package io.decodefleet.agent.engine.tp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.tools.parity.ParitySchedule;
import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.Sampler;
import io.decodefleet.agent.tools.parity.TensorParallelParity;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class TensorParallelBackendTest {

  private static final long KV_BYTES = CpuTensorGroups.KV_BYTES;
  private static final ModelConfig TINY = ModelConfig.preset("tiny");

  private static TensorParallelBackend cpuGroup(int size) {
    return CpuTensorGroups.of(size);
  }

  @Test
  void aProfiledStepOfAReplicaTimesItsAllReduces() {
    try (TensorParallelBackend group = cpuGroup(2)) {
      group.loadModel(TINY, 3);
      group.allocateKvCache(32, 16);
      ForwardBatch batch = new ForwardBatch(new int[] {5, 9}, new int[] {20, 33}, new int[] {20, 16 * 8 + 33 % 16},
          new int[][] {{0, 1}, {6, 7, 8}}, new int[] {21, 34}, new int[] {0, 1});
      int[] greedy = group.forwardGreedy(batch);
      io.decodefleet.agent.engine.sampling.SamplingParams[] params = {
          io.decodefleet.agent.engine.sampling.SamplingParams.GREEDY,
          io.decodefleet.agent.engine.sampling.SamplingParams.GREEDY};
      assertTrue(group.profileUnsupported().isEmpty());
      io.decodefleet.agent.engine.StepProfile.Run run = group.forwardProfiled(batch, params, batch.positions());
      assertArrayEquals(greedy, run.tokens());
      int allReduce = io.decodefleet.agent.engine.KernelFamily.ALL_REDUCE.ordinal();
      assertTrue(run.profile().familyMicros().get(allReduce) > 0, "two all-reduces a layer: " + run.profile());
    }
  }

  @Test
  void shardedLogitsEqualTheWholeModelsUpToSummationOrder() {
    ParitySchedule schedule = new ParitySchedule(TINY.vocabSize(), 3, 2, 4, 16);
    try (CpuBackend single = new CpuBackend(KV_BYTES); TensorParallelBackend group = cpuGroup(2)) {
      for (Backend b : List.of(single, group)) {
        b.loadModel(TINY, 11);
        b.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
      }
      double[] worst = {0};
      schedule.run(batch -> {
        float[] x = single.forward(batch);
        float[] y = group.forward(batch);
        assertEquals(x.length, y.length);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < x.length; i++) {
          diff += (x[i] - y[i]) * (double) (x[i] - y[i]);
          norm += x[i] * (double) x[i];
        }
        worst[0] = Math.max(worst[0], Math.sqrt(diff / norm));
        Sampler sampler = new Sampler(TINY.vocabSize());
        int[] tokens = new int[batch.numSampled()];
        for (int i = 0; i < tokens.length; i++) tokens[i] = sampler.sample(x, i);
        return tokens;
      });
      // float32 partial sums added in another order: rounding-level differences, nothing more.
      assertTrue(worst[0] < 1e-5, "relative L2 error of the logits " + worst[0]);
      // The dense oracle goes through the same all-reduces.
      int[] prompt = schedule.prompt(0);
      float[] a = single.forwardWithoutCache(prompt);
      float[] b = group.forwardWithoutCache(prompt);
      for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-4f * Math.max(1f, Math.abs(a[i])));
    }
  }

  @Test
  void eachRankHoldsItsOwnHeadsSoTheGroupFitsTwiceTheBlocks() {
    try (CpuBackend single = new CpuBackend(KV_BYTES); TensorParallelBackend group = cpuGroup(2)) {
      single.loadModel(TINY, 1);
      group.loadModel(TINY, 1);
      assertEquals(2 * single.kvBlockCapacity(16), group.kvBlockCapacity(16));
      assertTrue(group.deviceDescription().startsWith("tensor-parallel x2 over cpu"), group.deviceDescription());
    }
  }

  @Test
  void aModelWhoseHeadsDoNotSplitIsRefusedWithOneLine() {
    try (TensorParallelBackend group = cpuGroup(4)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> group.loadModel(TINY, 1));
      assertEquals("model tiny cannot be split 4 ways: num_key_value_heads 2 is not a multiple of 4", e.getMessage());
    }
  }

  /** A rank that fails inside a step: its peer waits in the all-reduce and must be released. */
  private static final class FailingRank extends ForwardingBackend {
    FailingRank() {
      super(new CpuBackend(KV_BYTES));
    }

    @Override
    public int[] forwardGreedy(ForwardBatch batch) {
      throw new IllegalStateException("rank 1 lost its device");
    }
  }

  @Test
  void aRankThatFailsMidStepAbortsItsPeersInsteadOfHangingThem() {
    List<Supplier<Backend>> ranks = List.of(() -> new CpuBackend(KV_BYTES), FailingRank::new);
    ParitySchedule schedule = new ParitySchedule(TINY.vocabSize(), 3, 1, 2, 16);
    try (TensorParallelBackend group = new TensorParallelBackend("test", ranks, Duration.ofSeconds(60))) {
      group.loadModel(TINY, 1);
      group.allocateKvCache(schedule.numBlocks(), 16);
      IllegalStateException e = assertTimeoutPreemptively(Duration.ofSeconds(15),
          () -> assertThrows(IllegalStateException.class, () -> schedule.run(group::forwardGreedy)));
      assertTrue(e.getMessage().contains("rank 1 lost its device") || e.getMessage().contains("aborted"),
          e.getMessage());
    }
  }

  @Test
  void aRankThatCannotStartFailsTheGroupWithItsOwnMessage() {
    List<Supplier<Backend>> ranks = List.of(() -> new CpuBackend(KV_BYTES), () -> {
      throw new IllegalStateException("GPU 1: out of memory");
    });
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new TensorParallelBackend("test", ranks, CpuTensorGroups.TIMEOUT));
    assertEquals("GPU 1: out of memory", e.getMessage());
  }

  @Test
  void shardWindowsOfAllRanksCoverTheFullTensorOnce() {
    int rows = 6;
    int cols = 8;
    for (boolean byColumns : new boolean[] {false, true}) {
      int[] seen = new int[rows * cols];
      for (int r = 0; r < 2; r++) {
        TensorShard shard = new TensorShard(r, 2);
        TensorShard.Window w = byColumns ? shard.columnSlice(rows, cols) : shard.rowSlice(rows, cols);
        assertEquals(rows * cols / 2, w.elements());
        for (long i = 0; i < w.elements(); i++) seen[(int) w.index(i)]++;
      }
      int[] once = new int[rows * cols];
      java.util.Arrays.fill(once, 1);
      assertArrayEquals(once, seen, byColumns ? "column slices" : "row slices");
    }
    // Rank 1's first column slice element is column 4 of row 0; its fifth is column 4 of row 1.
    TensorShard.Window w = new TensorShard(1, 2).columnSlice(rows, cols);
    assertEquals(4, w.index(0));
    assertEquals(12, w.index(4));
  }
}
