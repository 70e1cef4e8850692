package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.kernels.cuda.DecodeAttentionParams;
import io.decodefleet.kernels.cuda.DecodeAttentionPlan;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.reference.PagedAttention;
import java.util.Arrays;

/**
 * Paged decode attention, split + combine or persistent, against {@link PagedAttention}.
 *
 * <p>Pages are handed out in a shuffled order, the block tables have a stride longer than any
 * table, and every cache slot that no sequence may read (past a context in its last page, and
 * whole unused pages) holds NaN: a kernel that reads one poisons its output.
 */
public final class DecodeAttentionCheck {

  /** What one check runs: the batch's contexts and the head layout. */
  record Shape(int qHeads, int kvHeads, int headDim, int blockSize, int[] contextLens) {

    String describe(boolean persistent) {
      int[] c = contextLens;
      String ctx = c.length <= 3 ? Arrays.toString(c)
          : "[" + Arrays.stream(c).min().getAsInt() + ".." + Arrays.stream(c).max().getAsInt() + "]";
      return String.format("b=%d ctx=%s Hq=%d Hkv=%d D=%d bs=%d%s", c.length, ctx, qHeads,
          kvHeads, headDim, blockSize, persistent ? " persistent" : "");
    }
  }

  private DecodeAttentionCheck() {}

  /** The rows of DECODE_ATTENTION ({@code persistent} false) and DECODE_ATTENTION_PERSISTENT. */
  static KernelFamily.Check[] rows(boolean persistent) {
    return new KernelFamily.Check[] {
      h -> run(h, new Shape(32, 8, 128, 16, new int[] {1000}), persistent),
      h -> run(h, new Shape(8, 8, 64, 32, KernelFamily.randomContexts(h.random(), 17, 1, 3000)), persistent),
      h -> run(h, new Shape(64, 8, 128, 32, KernelFamily.randomContexts(h.random(), 5, 300, 5000)), persistent),
      h -> run(h, new Shape(16, 4, 64, 16, new int[] {1, 17, 4097}), persistent),
      h -> run(h, new Shape(32, 8, 128, 16, KernelFamily.randomContexts(h.random(), 64, 250, 260)), persistent),
      h -> run(h, new Shape(64, 8, 128, 16, new int[] {16383}), persistent)
    };
  }

  static CheckResult run(DeviceHarness h, Shape s, boolean persistent) {
    int batch = s.contextLens().length;
    int d = s.headDim();
    int bs = s.blockSize();
    int slotWidth = s.kvHeads() * d;
    int[] blocksOf = new int[batch];
    int totalBlocks = 0;
    int maxBlocks = 0;
    for (int i = 0; i < batch; i++) {
      blocksOf[i] = (s.contextLens()[i] + bs - 1) / bs;
      totalBlocks += blocksOf[i];
      maxBlocks = Math.max(maxBlocks, blocksOf[i]);
    }
    int numBlocks = totalBlocks + 3; // a few pages nobody owns
    int stride = maxBlocks + 1;
    int[] pageOrder = shuffled(h, numBlocks);
    int[][] tables = new int[batch][];
    int[] flatTables = new int[batch * stride];
    Arrays.fill(flatTables, -1);
    float[] kCache = h.randomBf16(numBlocks * bs * slotWidth, 1.0);
    float[] vCache = h.randomBf16(numBlocks * bs * slotWidth, 1.0);
    boolean[] readable = new boolean[numBlocks * bs];
    for (int i = 0, next = 0; i < batch; i++) {
      tables[i] = new int[blocksOf[i]];
      for (int b = 0; b < blocksOf[i]; b++) {
        int page = pageOrder[next++];
        tables[i][b] = page;
        flatTables[i * stride + b] = page;
        for (int o = 0; o < bs && b * bs + o < s.contextLens()[i]; o++) {
          readable[page * bs + o] = true;
        }
      }
    }
    for (int slot = 0; slot < readable.length; slot++) {
      if (!readable[slot]) {
        Arrays.fill(kCache, slot * slotWidth, (slot + 1) * slotWidth, Float.NaN);
        Arrays.fill(vCache, slot * slotWidth, (slot + 1) * slotWidth, Float.NaN);
      }
    }
    float[] q = h.randomBf16(batch * s.qHeads() * d, 1.0);
    float scale = (float) (1.0 / Math.sqrt(d));
    float[] expected = new float[batch * s.qHeads() * d];
    PagedAttention.forward(q, batch, s.qHeads(), s.kvHeads(), d, kCache, vCache, bs, tables,
        s.contextLens(), scale, expected);

    Kernel probe = persistent ? persistentKernel(d) : splitKernel(d);
    int slots = h.kernels().slots(probe);
    DecodeAttentionPlan plan = DecodeAttentionPlan.plan(s.contextLens(), s.kvHeads(), slots);
    int group = s.qHeads() / s.kvHeads();
    DeviceBuffer out = h.poisonedBf16(expected.length);
    DecodeAttentionParams.Buffers buffers = new DecodeAttentionParams.Buffers(
        out.address(), h.bf16(q).address(), h.bf16(kCache).address(), h.bf16(vCache).address(),
        h.ints(flatTables).address(), h.ints(s.contextLens()).address(),
        h.ints(plan.workItems()).address(), h.ints(plan.partialBase()).address(),
        h.poisonedF32(Math.max(1L, (long) plan.numPartials() * group * d)).address(),
        h.poisonedF32(Math.max(1L, (long) plan.numPartials() * group)).address(),
        h.zeroedInts(plan.counterCount()).address());
    DecodeAttentionParams p = DecodeAttentionParams.of(plan, buffers, s.qHeads(), d, bs, stride,
        scale);
    Runnable run = persistent
        ? () -> h.launch(p.persistentKernel(), plan.persistentLaunch(p.persistentKernel(), slots), p)
        : () -> {
          h.launch(p.splitKernel(), plan.splitLaunch(p.splitKernel()), p);
          if (plan.needsCombine()) {
            h.launch(p.combineKernel(), plan.combineLaunch(p.combineKernel()), p);
          }
        };
    run.run();
    double err = Compare.relError(h.readBf16(out, expected.length), expected);
    double us = h.medianUs(run);
    // Same inputs again after 20+ launches: catches counters that were not left at zero and races.
    out.fill16(DeviceHarness.BF16_NAN);
    run.run();
    err = Compare.worst(err, Compare.relError(h.readBf16(out, expected.length), expected));
    long kvBytes = 0;
    for (int c : s.contextLens()) {
      kvBytes += 2L * c * slotWidth * 2;
    }
    double bytes = kvBytes + 2.0 * 2 * expected.length;
    double flops = 4.0 * d * s.qHeads() * Arrays.stream(s.contextLens()).asLongStream().sum();
    return h.result(persistent ? "decode attn persistent" : "decode attn split+combine",
        s.describe(false) + " chunk=" + plan.chunkTokens(), err, Compare.BF16, us, bytes, flops);
  }

  public static Kernel splitKernel(int headDim) {
    return headDim == 64 ? Kernel.DECODE_ATTENTION_D64 : Kernel.DECODE_ATTENTION_D128;
  }

  public static Kernel persistentKernel(int headDim) {
    return headDim == 64
        ? Kernel.DECODE_ATTENTION_PERSISTENT_D64
        : Kernel.DECODE_ATTENTION_PERSISTENT_D128;
  }

  private static int[] shuffled(DeviceHarness h, int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = h.random().nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}
