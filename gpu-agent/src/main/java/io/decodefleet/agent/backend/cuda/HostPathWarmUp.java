package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.engine.ForwardBatch;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * The host part of a graph-replayed decode step — the step plan, the decode-attention work list, packing
 * the inputs into the pinned staging buffer — run at load on made-up decode batches of every captured
 * bucket, with no device work, until the JIT has compiled it. Interpreted, it takes tens of times longer:
 * at batch 256, 300–1000 µs a step over the first 80 steps on a 2-core VM against about 55 µs once
 * compiled (at batch 1, 40–100 µs against 3). Without this a serving engine pays that in its first
 * seconds, with the GPU idle meanwhile, and a benchmark of tens of steps measures it as the host's cost.
 * The batches are what decode steps look like: contexts spread log-uniformly over the pool's range (up
 * to 4096 positions), a table of distinct blocks per sequence, the slot of each last position.
 */
final class HostPathWarmUp {
  /** Steps per bucket: with 21 buckets, about 6,000 calls of each method, and its loops far more often. */
  static final int STEPS = 300;
  private static final int MAX_CONTEXT = 4096;

  private HostPathWarmUp() {}

  /**
   * Runs {@code hostPart} on {@code steps} made-up decode batches of each bucket in {@code buckets};
   * returns the milliseconds it took.
   *
   * @param maxBlocksPerSeq the staging layout's table stride: no made-up table is longer
   */
  static long run(List<Integer> buckets, int blockSize, int maxBlocksPerSeq, int steps,
      Consumer<ForwardBatch> hostPart) {
    long t0 = System.nanoTime();
    Random random = new Random(1);
    int maxContext = Math.max(1, Math.min(MAX_CONTEXT, maxBlocksPerSeq * blockSize));
    for (int step = 0; step < steps; step++) {
      for (int bucket : buckets) hostPart.accept(batch(bucket, blockSize, maxContext, random));
    }
    return (System.nanoTime() - t0) / 1_000_000;
  }

  /** A decode batch of {@code rows} sequences (one token each), contexts log-uniform in [1, maxContext]. */
  static ForwardBatch batch(int rows, int blockSize, int maxContext, Random random) {
    int[] tokens = new int[rows];
    int[] positions = new int[rows];
    int[] slots = new int[rows];
    int[][] tables = new int[rows][];
    int[] contexts = new int[rows];
    int[] sample = new int[rows];
    int nextBlock = 0;
    for (int r = 0; r < rows; r++) {
      // Log-uniform: as many short contexts as long ones, so every branch of the plan is compiled warm.
      long drawn = Math.round(Math.exp(random.nextDouble() * Math.log(maxContext)));
      int context = (int) Math.min(maxContext, Math.max(1, drawn));
      tables[r] = new int[(context + blockSize - 1) / blockSize];
      for (int b = 0; b < tables[r].length; b++) tables[r][b] = nextBlock++;
      positions[r] = context - 1;
      contexts[r] = context;
      slots[r] = tables[r][(context - 1) / blockSize] * blockSize + (context - 1) % blockSize;
      sample[r] = r;
    }
    return new ForwardBatch(tokens, positions, slots, tables, contexts, sample);
  }
}
