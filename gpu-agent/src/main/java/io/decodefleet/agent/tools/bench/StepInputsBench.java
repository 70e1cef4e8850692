package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.StepInputs;
import io.decodefleet.agent.backend.cuda.StepPlan;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.kernels.cuda.DecodeAttentionGraphParams;
import io.decodefleet.kernels.cuda.DecodeAttentionPlan;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * {@code gpu-agent bench host-step}: the host's part of a graph-replayed decode step on a CUDA agent that
 * runs before the launch — the step plan, the decode-attention work list over the padded bucket, and
 * packing the step's inputs (tokens, positions, slots, contexts, block tables, work items) into the
 * staging buffer — timed on the CPU alone, no device needed. The batch's sequences have contexts spread
 * ±5 % around the given one, each with a block table of its own. What bench step reports as a step's host
 * time is this plus the driver calls (the inputs' copy, an event and the graph launch).
 */
public final class StepInputsBench {
  private StepInputsBench() {}

  /** One batch size: the median and 90th-percentile µs of each part, and of the three together. */
  public record Point(int batch, double[] medianMicros, double[] p90Micros) {}

  public static final List<String> PARTS = List.of("step plan", "attention plan", "pack inputs", "total");

  /**
   * @param slots the decode-attention kernel's CTA slots (SMs × resident CTAs), which set how far it splits
   */
  public static List<Point> run(int[] batches, int context, int blockSize, int kvHeads, int slots, int maxContext,
      int reps, PrintStream out) {
    List<Point> points = new ArrayList<>();
    out.printf(Locale.ROOT, "host part of a graph decode step before its launch: context %d, block %d, %d kv heads,"
        + " %d attention slots; median / p90 us of %d reps%n", context, blockSize, kvHeads, slots, reps);
    out.printf(Locale.ROOT, "%6s %18s %18s %18s %18s%n", "batch", PARTS.get(0), PARTS.get(1), PARTS.get(2), PARTS.get(3));
    for (int batch : batches) {
      Point p = time(batch, context, blockSize, kvHeads, slots, maxContext, reps);
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%6d", batch));
      for (int i = 0; i < PARTS.size(); i++) {
        row.append(String.format(Locale.ROOT, " %18s", String.format(Locale.ROOT, "%.1f / %.1f", p.medianMicros()[i],
            p.p90Micros()[i])));
      }
      out.println(row);
      points.add(p);
    }
    return points;
  }

  private static Point time(int batch, int context, int blockSize, int kvHeads, int slots, int maxContext, int reps) {
    ForwardBatch fb = batch(batch, context, blockSize, new Random(batch));
    int maxBlocks = StepPlan.blocksFor(maxContext, blockSize);
    int items = DecodeAttentionGraphParams.maxItems(batch, kvHeads, slots);
    StepInputs layout = new StepInputs(batch, batch, 0, 0, batch, items, (long) batch * maxBlocks);
    ByteBuffer staging = ByteBuffer.allocateDirect(Math.toIntExact(layout.capacityBytes()))
        .order(ByteOrder.LITTLE_ENDIAN);
    int warmUp = Math.max(200, reps);
    long[][] nanos = new long[PARTS.size()][reps];
    for (int it = 0; it < warmUp + reps; it++) {
      long t0 = System.nanoTime();
      StepPlan plan = StepPlan.of(fb, blockSize, true);
      long t1 = System.nanoTime();
      DecodeAttentionPlan attention = DecodeAttentionPlan.plan(fb.contextLens().clone(), kvHeads, slots);
      long t2 = System.nanoTime();
      layout.write(staging, fb, plan, batch, true, plan.tableStride(), attention);
      long t3 = System.nanoTime();
      if (it >= warmUp) {
        int r = it - warmUp;
        nanos[0][r] = t1 - t0;
        nanos[1][r] = t2 - t1;
        nanos[2][r] = t3 - t2;
        nanos[3][r] = t3 - t0;
      }
    }
    double[] median = new double[PARTS.size()];
    double[] p90 = new double[PARTS.size()];
    for (int i = 0; i < PARTS.size(); i++) {
      long[] sorted = nanos[i].clone();
      Arrays.sort(sorted);
      median[i] = sorted[sorted.length / 2] / 1e3;
      p90[i] = sorted[Math.min(sorted.length - 1, (int) (sorted.length * 0.9))] / 1e3;
    }
    return new Point(batch, median, p90);
  }

  /** A decode batch of {@code n} sequences around {@code context}, each with its own blocks. */
  static ForwardBatch batch(int n, int context, int blockSize, Random random) {
    int[] tokens = new int[n];
    int[] positions = new int[n];
    int[] slots = new int[n];
    int[] contexts = new int[n];
    int[] sample = new int[n];
    int[][] tables = new int[n][];
    int nextBlock = 0;
    for (int r = 0; r < n; r++) {
      int c = Math.max(1, context + (int) Math.round(context * 0.05 * (2 * random.nextDouble() - 1)));
      tokens[r] = random.nextInt(32000);
      positions[r] = c - 1;
      contexts[r] = c;
      sample[r] = r;
      tables[r] = new int[StepPlan.blocksFor(c, blockSize)];
      for (int b = 0; b < tables[r].length; b++) tables[r][b] = nextBlock++;
      slots[r] = tables[r][(c - 1) / blockSize] * blockSize + (c - 1) % blockSize;
    }
    return new ForwardBatch(tokens, positions, slots, tables, contexts, sample);
  }
}
