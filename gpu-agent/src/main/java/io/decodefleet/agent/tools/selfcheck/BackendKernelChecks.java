package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.engine.DummyWeights;
import io.decodefleet.kernels.cuda.Bf16;
import io.decodefleet.kernels.cuda.DecodeAttentionGraphParams;
import io.decodefleet.kernels.cuda.DecodeAttentionPlan;
import io.decodefleet.kernels.cuda.DummyWeightsParams;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.PagedAttentionParams;
import io.decodefleet.kernels.reference.PagedAttention;
import java.util.Arrays;

/**
 * The kernels the CUDA backend added: dummy weights (bit-exact against the engine's hash), the
 * plain paged attention (any head dim) and the graph variants of decode attention (plan read from
 * device memory), the last two against {@link PagedAttention} on shuffled pages whose unreadable
 * slots hold NaN.
 */
final class BackendKernelChecks {

  private BackendKernelChecks() {}

  /** Elements [base, base + n) of one tensor, compared bit for bit with the host hash in bf16. */
  static CheckResult dummyWeights(DeviceHarness h, long seed, long tensorId, long base, int n, float scale,
      float offset) {
    DeviceBuffer out = h.poisonedBf16(n);
    DummyWeightsParams p = DummyWeightsParams.of(out.address(), n, seed, tensorId, base, scale, offset);
    Runnable run = () -> h.launch(Kernel.DUMMY_WEIGHTS, p.launch(), p);
    run.run();
    float[] got = h.readBf16(out, n);
    float[] expected = new float[n];
    for (int i = 0; i < n; i++) {
      expected[i] = Bf16.round(offset + scale * DummyWeights.uniform(seed, tensorId, base + i));
    }
    double us = h.medianUs(run);
    return h.result("dummy weights", String.format("n=%d base=%d seed=%x", n, base, seed),
        Compare.relError(got, expected), Compare.EXACT, us, 2.0 * n, 0);
  }

  /**
   * The inputs of one paged-attention check and the reference output: caches whose slots outside
   * every context hold NaN, block tables flat (rows of {@code stride}, -1 past a sequence's blocks).
   */
  record Paged(int batch, int stride, float[] q, float[] kCache, float[] vCache, int[] flatTables,
      int[] contexts, float[] expected, long kvBytes) {
    /** Sequence s's block table: its row of the flat tables up to the first -1. */
    int[][] tables() {
      int[][] t = new int[batch][];
      for (int s = 0; s < batch; s++) {
        int[] row = Arrays.copyOfRange(flatTables, s * stride, (s + 1) * stride);
        t[s] = Arrays.stream(row).takeWhile(b -> b >= 0).toArray();
      }
      return t;
    }
  }

  static Paged pagedInputs(DeviceHarness h, int qHeads, int kvHeads, int d, int bs, int[] contexts) {
    int batch = contexts.length;
    int slotWidth = kvHeads * d;
    int total = 0;
    int maxBlocks = 0;
    for (int c : contexts) {
      int blocks = (c + bs - 1) / bs;
      total += blocks;
      maxBlocks = Math.max(maxBlocks, blocks);
    }
    int numBlocks = total + 3;
    int stride = maxBlocks + 1;
    int[] pages = new int[numBlocks];
    for (int i = 0; i < numBlocks; i++) {
      pages[i] = i;
    }
    for (int i = numBlocks - 1; i > 0; i--) {
      int j = h.random().nextInt(i + 1);
      int t = pages[i];
      pages[i] = pages[j];
      pages[j] = t;
    }
    float[] kCache = h.randomBf16(numBlocks * bs * slotWidth, 1.0);
    float[] vCache = h.randomBf16(numBlocks * bs * slotWidth, 1.0);
    boolean[] readable = new boolean[numBlocks * bs];
    int[][] tables = new int[batch][];
    int[] flat = new int[batch * stride];
    Arrays.fill(flat, -1);
    long kvBytes = 0;
    for (int s = 0, next = 0; s < batch; s++) {
      tables[s] = new int[(contexts[s] + bs - 1) / bs];
      for (int b = 0; b < tables[s].length; b++) {
        int page = pages[next++];
        tables[s][b] = page;
        flat[s * stride + b] = page;
        for (int o = 0; o < bs && b * bs + o < contexts[s]; o++) {
          readable[page * bs + o] = true;
        }
      }
      kvBytes += 2L * contexts[s] * slotWidth * 2;
    }
    for (int slot = 0; slot < readable.length; slot++) {
      if (!readable[slot]) {
        Arrays.fill(kCache, slot * slotWidth, (slot + 1) * slotWidth, Float.NaN);
        Arrays.fill(vCache, slot * slotWidth, (slot + 1) * slotWidth, Float.NaN);
      }
    }
    float[] q = h.randomBf16(batch * qHeads * d, 1.0);
    float[] expected = new float[q.length];
    PagedAttention.forward(q, batch, qHeads, kvHeads, d, kCache, vCache, bs, tables, contexts,
        (float) (1.0 / Math.sqrt(d)), expected);
    return new Paged(batch, stride, q, kCache, vCache, flat, contexts, expected, kvBytes);
  }

  /** The plain paged kernel (any head dim), block-table stride read from device memory. */
  static CheckResult pagedAttention(DeviceHarness h, int qHeads, int kvHeads, int d, int bs, int[] contexts) {
    Paged in = pagedInputs(h, qHeads, kvHeads, d, bs, contexts);
    DeviceBuffer out = h.poisonedBf16(in.expected().length);
    PagedAttentionParams p = new PagedAttentionParams(out.address(), h.bf16(in.q()).address(),
        h.bf16(in.kCache()).address(), h.bf16(in.vCache()).address(), h.ints(in.flatTables()).address(),
        h.ints(contexts).address(), h.ints(new int[] {0, 0, in.stride(), 0}).address(), in.batch(), qHeads, kvHeads,
        d, bs, (float) (1.0 / Math.sqrt(d)));
    Runnable run = () -> h.launch(Kernel.PAGED_ATTENTION, p.launch(), p);
    run.run();
    double err = Compare.relError(h.readBf16(out, in.expected().length), in.expected());
    double us = h.medianUs(run);
    return h.result("paged attn plain", shape(in, qHeads, kvHeads, d, bs), err, Compare.BF16, us,
        in.kvBytes() + 4.0 * in.q().length, 4.0 * d * qHeads * Arrays.stream(contexts).asLongStream().sum());
  }

  /**
   * The graph variants of decode attention: grid fixed at the plan's bound, the step's item count,
   * chunk length and stride in device memory; run twice (counters must come back to zero).
   */
  static CheckResult decodeGraph(DeviceHarness h, boolean persistent, int qHeads, int kvHeads, int d, int bs,
      int[] contexts) {
    Paged in = pagedInputs(h, qHeads, kvHeads, d, bs, contexts);
    Kernel probe = persistent
        ? (d == 64 ? Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_D64 : Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_D128)
        : (d == 64 ? Kernel.DECODE_ATTENTION_GRAPH_D64 : Kernel.DECODE_ATTENTION_GRAPH_D128);
    int slots = h.kernels().slots(probe);
    DecodeAttentionPlan plan = DecodeAttentionPlan.plan(contexts, kvHeads, slots);
    int maxItems = DecodeAttentionPlan.maxItems(in.batch(), kvHeads, slots);
    int group = qHeads / kvHeads;
    DeviceBuffer out = h.poisonedBf16(in.expected().length);
    DecodeAttentionGraphParams p = new DecodeAttentionGraphParams(out.address(), h.bf16(in.q()).address(),
        h.bf16(in.kCache()).address(), h.bf16(in.vCache()).address(), h.ints(in.flatTables()).address(),
        h.ints(contexts).address(), h.ints(plan.workItems()).address(), h.ints(plan.partialBase()).address(),
        h.poisonedF32((long) maxItems * group * d).address(), h.poisonedF32((long) maxItems * group).address(),
        h.zeroedInts(plan.counterCount()).address(),
        h.ints(new int[] {plan.numItems(), plan.chunkTokens(), in.stride(), 0}).address(), in.batch(), qHeads,
        kvHeads, d, bs, Integer.numberOfTrailingZeros(bs), (float) (1.0 / Math.sqrt(d) / Math.log(2.0)));
    Runnable run = persistent
        ? () -> h.launch(p.persistentKernel(), p.persistentLaunch(slots), p)
        : () -> {
          h.launch(p.splitKernel(), p.splitLaunch(maxItems), p);
          h.launch(p.combineKernel(), p.combineLaunch(), p);
        };
    run.run();
    double err = Compare.relError(h.readBf16(out, in.expected().length), in.expected());
    double us = h.medianUs(run);
    out.fill16(DeviceHarness.BF16_NAN);
    run.run();
    err = Compare.worst(err, Compare.relError(h.readBf16(out, in.expected().length), in.expected()));
    return h.result(persistent ? "decode attn graph persistent" : "decode attn graph split", shape(in, qHeads,
        kvHeads, d, bs) + " chunk=" + plan.chunkTokens(), err, Compare.BF16, us, in.kvBytes() + 4.0 * in.q().length,
        4.0 * d * qHeads * Arrays.stream(contexts).asLongStream().sum());
  }

  private static String shape(Paged in, int qHeads, int kvHeads, int d, int bs) {
    int[] c = in.contexts();
    String ctx = c.length <= 3 ? Arrays.toString(c)
        : "[" + Arrays.stream(c).min().getAsInt() + ".." + Arrays.stream(c).max().getAsInt() + "]";
    return String.format("b=%d ctx=%s Hq=%d Hkv=%d D=%d bs=%d", c.length, ctx, qHeads, kvHeads, d, bs);
  }
}
