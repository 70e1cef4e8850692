package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.kernels.cuda.PagedPrefillAttentionParams;
import io.decodefleet.kernels.reference.Fp8E4m3;
import io.decodefleet.kernels.reference.PagedAttention;
import java.util.Arrays;
import java.util.Random;

/**
 * The paged prefill attention against {@link PagedAttention#forwardSpans}: spans of several
 * sequences, each at its own position with its own block table, in one launch.
 *
 * <p>As in {@link DecodeAttentionCheck}, pages are handed out in a shuffled order, the table
 * stride is longer than any table (its tail entries -1), and every cache slot no span may read
 * (past its last row's position, and whole unowned pages) holds NaN. The spans' own K/V sit in
 * the cache, as the step's append leaves them. Over an FP8 cache the pages hold the e4m3 codes of
 * those values (NaN where nothing may be read) and the reference reads the codes decoded: what
 * {@link PagedAttention#forwardFp8} reads.
 */
final class PagedPrefillAttentionCheck {

  private static final float K_SCALE = 0.25f;
  private static final float V_SCALE = 0.0078125f;

  /** One check's spans: span s has {@code lengths[s]} rows from position {@code positions[s]}. */
  record Shape(int qHeads, int kvHeads, int headDim, int blockSize, int[] positions, int[] lengths) {

    String describe() {
      String spans;
      if (positions.length <= 4) {
        StringBuilder sb = new StringBuilder();
        for (int s = 0; s < positions.length; s++) {
          sb.append(s == 0 ? "" : ",").append(positions[s]).append('+').append(lengths[s]);
        }
        spans = sb.toString();
      } else {
        spans = positions.length + " spans p=[" + Arrays.stream(positions).min().getAsInt() + ".."
            + Arrays.stream(positions).max().getAsInt() + "] L=[" + Arrays.stream(lengths).min().getAsInt() + ".."
            + Arrays.stream(lengths).max().getAsInt() + "]";
      }
      return String.format("p+L=%s Hq=%d Hkv=%d D=%d bs=%d", spans, qHeads, kvHeads, headDim, blockSize);
    }
  }

  private PagedPrefillAttentionCheck() {}

  static CheckResult run(DeviceHarness h, int qHeads, int kvHeads, int headDim, int blockSize, int[] positions,
      int[] lengths) {
    return run(h, new Shape(qHeads, kvHeads, headDim, blockSize, positions, lengths), false);
  }

  /** As {@link #run(DeviceHarness, int, int, int, int, int[], int[])} over an FP8 e4m3 cache. */
  static CheckResult fp8(DeviceHarness h, int qHeads, int kvHeads, int headDim, int blockSize, int[] positions,
      int[] lengths) {
    return run(h, new Shape(qHeads, kvHeads, headDim, blockSize, positions, lengths), true);
  }

  /** {@code spans} spans at random positions in [0, maxPosition] of random lengths in [1, maxLength]. */
  static CheckResult random(DeviceHarness h, int qHeads, int kvHeads, int headDim, int blockSize, int spans,
      int maxPosition, int maxLength) {
    Random r = h.random();
    int[] positions = new int[spans];
    int[] lengths = new int[spans];
    for (int s = 0; s < spans; s++) {
      positions[s] = r.nextInt(maxPosition + 1);
      lengths[s] = 1 + r.nextInt(maxLength);
    }
    return run(h, new Shape(qHeads, kvHeads, headDim, blockSize, positions, lengths), false);
  }

  static CheckResult run(DeviceHarness h, Shape s, boolean fp8) {
    int spans = s.positions().length;
    int d = s.headDim();
    int bs = s.blockSize();
    int slotWidth = s.kvHeads() * d;
    int[] starts = new int[spans + 1];
    int[] blocksOf = new int[spans];
    int totalBlocks = 0;
    int maxBlocks = 0;
    for (int i = 0; i < spans; i++) {
      starts[i + 1] = starts[i] + s.lengths()[i];
      blocksOf[i] = (s.positions()[i] + s.lengths()[i] + bs - 1) / bs;
      totalBlocks += blocksOf[i];
      maxBlocks = Math.max(maxBlocks, blocksOf[i]);
    }
    int rows = starts[spans];
    int numBlocks = totalBlocks + 3; // a few pages nobody owns
    int stride = maxBlocks + 1;
    int[] pageOrder = shuffled(h.random(), numBlocks);
    int[][] tables = new int[spans][];
    int[] flatTables = new int[spans * stride];
    Arrays.fill(flatTables, -1);
    float[] kCache = h.randomBf16(numBlocks * bs * slotWidth, 1.0);
    float[] vCache = h.randomBf16(numBlocks * bs * slotWidth, 1.0);
    boolean[] readable = new boolean[numBlocks * bs];
    int[] rowPositions = new int[rows];
    long visible = 0; // (row, position) pairs: positions each row attends to, summed
    for (int i = 0, next = 0; i < spans; i++) {
      int end = s.positions()[i] + s.lengths()[i];
      tables[i] = new int[blocksOf[i]];
      for (int b = 0; b < blocksOf[i]; b++) {
        int page = pageOrder[next++];
        tables[i][b] = page;
        flatTables[i * stride + b] = page;
        for (int o = 0; o < bs && b * bs + o < end; o++) {
          readable[page * bs + o] = true;
        }
      }
      for (int r = 0; r < s.lengths()[i]; r++) {
        rowPositions[starts[i] + r] = s.positions()[i] + r;
        visible += s.positions()[i] + r + 1;
      }
    }
    for (int slot = 0; slot < readable.length; slot++) {
      if (!readable[slot]) {
        Arrays.fill(kCache, slot * slotWidth, (slot + 1) * slotWidth, Float.NaN);
        Arrays.fill(vCache, slot * slotWidth, (slot + 1) * slotWidth, Float.NaN);
      }
    }
    int qw = s.qHeads() * d;
    float[] q = h.randomBf16(rows * qw, 1.0);
    float scale = (float) (1.0 / Math.sqrt(d));
    float[] expected = new float[rows * qw];
    long kBuffer;
    long vBuffer;
    if (fp8) {
      byte[] kCodes = new byte[kCache.length];
      byte[] vCodes = new byte[vCache.length];
      Fp8E4m3.encode(kCache, 0, kCache.length, K_SCALE, kCodes, 0); // NaN stays NaN (code 0x7f)
      Fp8E4m3.encode(vCache, 0, vCache.length, V_SCALE, vCodes, 0);
      Fp8E4m3.decode(kCodes, 0, kCodes.length, K_SCALE, kCache, 0);
      Fp8E4m3.decode(vCodes, 0, vCodes.length, V_SCALE, vCache, 0);
      kBuffer = h.bytes(kCodes).address();
      vBuffer = h.bytes(vCodes).address();
    } else {
      kBuffer = h.bf16(kCache).address();
      vBuffer = h.bf16(vCache).address();
    }
    PagedAttention.forwardSpans(q, starts, s.positions(), tables, s.qHeads(), s.kvHeads(), d, kCache, vCache, bs,
        scale, expected);

    DeviceBuffer out = h.poisonedBf16(expected.length);
    PagedPrefillAttentionParams p = PagedPrefillAttentionParams.of(out.address(), h.bf16(q).address(), kBuffer,
        vBuffer, h.ints(starts).address(), h.ints(rowPositions).address(), h.ints(flatTables).address(), spans,
        s.qHeads(), s.kvHeads(), d, bs, stride, scale).withKvScales(fp8 ? K_SCALE : 1f, fp8 ? V_SCALE : 1f);
    int maxLen = Arrays.stream(s.lengths()).max().orElse(1);
    Runnable run = () -> h.launch(p.kernel(fp8), p.launch(maxLen), p);
    run.run();
    double err = Compare.relError(h.readBf16(out, expected.length), expected);
    double us = h.medianUs(run);
    out.fill16(DeviceHarness.BF16_NAN); // the same inputs again after the timed launches
    run.run();
    err = Compare.worst(err, Compare.relError(h.readBf16(out, expected.length), expected));
    long kvBytes = 0;
    for (int i = 0; i < spans; i++) {
      kvBytes += 2L * (s.positions()[i] + s.lengths()[i]) * slotWidth * (fp8 ? 1 : 2);
    }
    double bytes = kvBytes + 2.0 * 2 * expected.length;
    double flops = 4.0 * qw * visible;
    return h.result(fp8 ? "prefill attn paged fp8" : "prefill attn paged", s.describe(), err, Compare.BF16, us, bytes,
        flops);
  }

  private static int[] shuffled(Random random, int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}
