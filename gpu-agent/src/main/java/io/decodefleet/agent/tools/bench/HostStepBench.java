package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.StepInputs;
import io.decodefleet.agent.backend.cuda.StepPlan;
import io.decodefleet.agent.engine.BatchBuckets;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.KvBlockManager;
import io.decodefleet.agent.engine.ModelRunner;
import io.decodefleet.agent.engine.Scheduler;
import io.decodefleet.agent.engine.SchedulerConfig;
import io.decodefleet.agent.engine.SchedulerOutput;
import io.decodefleet.agent.engine.Sequence;
import io.decodefleet.kernels.cuda.DecodeAttentionPlan;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * {@code gpu-agent bench host-step}: what a CUDA agent's engine thread does on the host for each
 * graph-replayed decode step, timed on the CPU alone (no device): the scheduler's step ({@link
 * Scheduler#schedule}), the runner laying the step out ({@link ModelRunner#layOut}), the step plan, the
 * decode-attention work list over the padded bucket, packing the inputs into the staging buffer (as
 * StepRunner does for a graph), and taking the sampled tokens back ({@link ModelRunner#appendSampled},
 * {@link Scheduler#update}). The real scheduler and runner serve a stream of sequences: prompts of the
 * given context ±5 % (random tokens), each decoding {@code outputLen} tokens, prefix caching on, with new
 * ones queued as others finish, so the batch stays full; the device's part (the forward pass and its
 * tokens) is what the bench leaves out, and a fixed token stands for each sample row's. Only steps that
 * decode a full batch (one token of each of {@code batch} sequences) are timed. What bench step reports as
 * a graph step's host time is the middle four parts plus the driver calls (the inputs' copy, an event and
 * the graph launch); the first and last are the engine's around it.
 */
public final class HostStepBench {
  private HostStepBench() {}

  /** One batch size: the median and 90th-percentile µs of each part, and of all of them. */
  public record Point(int batch, double[] medianMicros, double[] p90Micros) {}

  public static final List<String> PARTS = List.of("schedule", "lay out", "step plan", "attention plan",
      "pack inputs", "update", "total");

  /**
   * @param slots the decode-attention kernel's CTA slots (SMs × resident CTAs), which set how far it splits
   * @param maxContext the model's length: the block tables' stride, as the graph inputs are laid out
   */
  public static List<Point> run(int[] batches, int context, int outputLen, int blockSize, int kvHeads, int slots,
      int maxContext, int vocab, int reps, PrintStream out) {
    List<Point> points = new ArrayList<>();
    out.printf(Locale.ROOT, "host part of a graph decode step on the engine thread: prompts of %d tokens +-5%%, "
        + "%d output tokens each, block %d, %d kv heads, %d attention slots; median / p90 us of %d full-batch "
        + "decode steps%n", context, outputLen, blockSize, kvHeads, slots, reps);
    StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%6s", "batch"));
    for (String part : PARTS) head.append(String.format(Locale.ROOT, " %15s", part));
    out.println(head);
    for (int batch : batches) {
      Point p = time(batch, context, outputLen, blockSize, kvHeads, slots, maxContext, vocab, reps);
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%6d", batch));
      for (int i = 0; i < PARTS.size(); i++) {
        row.append(String.format(Locale.ROOT, " %15s", String.format(Locale.ROOT, "%.1f / %.1f",
            p.medianMicros()[i], p.p90Micros()[i])));
      }
      out.println(row);
      points.add(p);
    }
    return points;
  }

  private static Point time(int batch, int context, int outputLen, int blockSize, int kvHeads, int slots,
      int maxContext, int vocab, int reps) {
    Random random = new Random(batch);
    int longest = (int) Math.ceil(context * 1.05) + outputLen;
    if (longest > maxContext) {
      throw new IllegalArgumentException("a prompt of up to " + (longest - outputLen) + " tokens and " + outputLen
          + " output tokens exceed the model's " + maxContext);
    }
    // Room for every running sequence and the queue's next ones, so nothing is preempted.
    int blocks = 3 * batch * (StepPlan.blocksFor(longest, blockSize) + 1);
    Scheduler scheduler = new Scheduler(new SchedulerConfig(batch, 8192, maxContext),
        new KvBlockManager(blocks, blockSize, true));
    ModelRunner runner = ModelRunner.layoutOnly(blockSize, vocab);
    int bucket = BatchBuckets.bucketOf(batch);
    int maxBlocks = StepPlan.blocksFor(maxContext, blockSize);
    int items = DecodeAttentionPlan.maxItems(bucket, kvHeads, slots);
    StepInputs layout = new StepInputs(bucket, bucket, 0, 0, bucket, items, (long) bucket * maxBlocks);
    ByteBuffer staging = ByteBuffer.allocateDirect(Math.toIntExact(layout.capacityBytes()))
        .order(ByteOrder.LITTLE_ENDIAN);
    long nextId = 0;
    int warmUp = Math.max(2000, reps);
    long[][] nanos = new long[PARTS.size()][reps];
    int timed = -warmUp;
    long steps = 0;
    while (timed < reps) {
      while (scheduler.numWaiting() < batch) {
        scheduler.add(new Sequence(nextId++, prompt(context, vocab, random), outputLen));
      }
      long t0 = System.nanoTime();
      SchedulerOutput step = scheduler.schedule();
      long t1 = System.nanoTime();
      ModelRunner.LaidOut laid = runner.layOut(step);
      long t2 = System.nanoTime();
      ForwardBatch fb = laid.batch();
      boolean decode = step.newSequences().isEmpty() && fb.numTokens() == batch && fb.numSampled() == batch;
      long t3 = t2, t4 = t2, t5 = t2;
      if (decode) {
        StepPlan plan = StepPlan.of(fb, blockSize, true);
        t3 = System.nanoTime();
        DecodeAttentionPlan attention =
            DecodeAttentionPlan.plan(StepPlan.paddedContexts(fb, 0, bucket), kvHeads, slots);
        t4 = System.nanoTime();
        layout.write(staging, fb, plan, bucket, true, plan.tableStride(), attention);
        t5 = System.nanoTime();
      }
      int[] tokens = new int[fb.numSampled()];
      for (int i = 0; i < tokens.length; i++) tokens[i] = (int) ((steps * 31 + i * 7919) % vocab);
      Map<Long, Integer> sampled = runner.appendSampled(laid, tokens);
      scheduler.update(step, sampled);
      long t6 = System.nanoTime();
      steps++;
      if (!decode) continue;
      if (timed >= 0) {
        long[] at = {t0, t1, t2, t3, t4, t5, t6};
        for (int i = 0; i < PARTS.size() - 1; i++) nanos[i][timed] = at[i + 1] - at[i];
        nanos[PARTS.size() - 1][timed] = t6 - t0;
      }
      timed++;
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

  private static int[] prompt(int context, int vocab, Random random) {
    int length = Math.max(1, context + (int) Math.round(context * 0.05 * (2 * random.nextDouble() - 1)));
    int[] tokens = new int[length];
    for (int i = 0; i < length; i++) tokens[i] = random.nextInt(vocab);
    return tokens;
  }
}
