package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.kernels.cuda.Bf16;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.RopeKvParams;
import io.decodefleet.kernels.cuda.RopeTable;
import io.decodefleet.kernels.reference.PagedKvCache;
import io.decodefleet.kernels.reference.RmsNorm;
import io.decodefleet.kernels.reference.Rope;

/**
 * RoPE + KV append on a fused qkv buffer (q, k and v as strided views of one (n, (qHeads + 2 *
 * kvHeads) * headDim) tensor), against {@link Rope#apply} and {@link PagedKvCache#append}. One
 * token is a padding token (slot -1): it is rotated but not stored. With q/k norms (Qwen3) each q
 * and k head is first RMS-normed over headDim by {@link RmsNorm#forward}, as the CPU backend does.
 * With attention biases (Qwen2) q, k and v first get their bias added, as {@code CpuWeights.addBias}
 * does, and the token's v in the qkv buffer holds the biased v afterwards.
 */
final class RopeKvCheck {

  private static final double THETA = 500000.0;
  private static final int TABLE_POSITIONS = 8192;
  /** Qwen3's rms_norm_eps. */
  static final float QK_NORM_EPS = 1e-6f;

  private RopeKvCheck() {}

  static CheckResult run(
      DeviceHarness h, int n, int qHeads, int kvHeads, int headDim, int blockSize, int numBlocks) {
    return run(h, n, qHeads, kvHeads, headDim, blockSize, numBlocks, false);
  }

  /** With {@code qkNorm}, each q and k head is RMS-normed by its weight before its rotation. */
  static CheckResult run(DeviceHarness h, int n, int qHeads, int kvHeads, int headDim, int blockSize, int numBlocks,
      boolean qkNorm) {
    return run(h, n, qHeads, kvHeads, headDim, blockSize, numBlocks, qkNorm, false);
  }

  /** With {@code biases}, q, k and v get a projection bias each before anything else. */
  static CheckResult run(DeviceHarness h, int n, int qHeads, int kvHeads, int headDim, int blockSize, int numBlocks,
      boolean qkNorm, boolean biases) {
    return run(h, n, qHeads, kvHeads, headDim, blockSize, numBlocks, qkNorm, biases, false);
  }

  /**
   * With {@code qOut}, the rotated q goes packed into a buffer of its own, as a decode step launches it: q
   * in the qkv buffer must be left as it was.
   */
  static CheckResult run(DeviceHarness h, int n, int qHeads, int kvHeads, int headDim, int blockSize, int numBlocks,
      boolean qkNorm, boolean biases, boolean qOut) {
    int row = (qHeads + 2 * kvHeads) * headDim;
    int qw = qHeads * headDim;
    int kw = kvHeads * headDim;
    float[] qkv = h.randomBf16(n * row, 1.0);
    float[] kCache = h.randomBf16(numBlocks * blockSize * kw, 1.0);
    float[] vCache = h.randomBf16(numBlocks * blockSize * kw, 1.0);
    int[] positions = new int[n];
    int[] slots = distinctSlots(h, n, numBlocks * blockSize);
    for (int t = 0; t < n; t++) {
      positions[t] = h.random().nextInt(TABLE_POSITIONS);
    }
    if (n > 1) {
      slots[n - 1] = -1;
    }

    float[] q = new float[n * qw];
    float[] k = new float[n * kw];
    float[] v = new float[n * kw];
    for (int t = 0; t < n; t++) {
      System.arraycopy(qkv, t * row, q, t * qw, qw);
      System.arraycopy(qkv, t * row + qw, k, t * kw, kw);
      System.arraycopy(qkv, t * row + qw + kw, v, t * kw, kw);
    }
    Biases bias = biases ? Biases.random(h, qw, kw, 4.0) : null;
    if (bias != null) bias.apply(q, k, v, n);
    QkNorms norms = qkNorm ? QkNorms.random(h, headDim) : null;
    if (norms != null) norms.apply(q, k, n, qHeads, kvHeads, headDim);
    Rope.apply(q, n, qHeads, headDim, positions, THETA);
    Rope.apply(k, n, kvHeads, headDim, positions, THETA);
    float[] expectedK = kCache.clone();
    float[] expectedV = vCache.clone();
    PagedKvCache.append(k, v, n, slots, expectedK, expectedV, kvHeads, headDim);
    float[] expectedQkv = qkv.clone();
    for (int t = 0; t < n; t++) {
      if (!qOut) System.arraycopy(q, t * qw, expectedQkv, t * row, qw);
      System.arraycopy(k, t * kw, expectedQkv, t * row + qw, kw);
      if (bias != null) System.arraycopy(v, t * kw, expectedQkv, t * row + qw + kw, kw);
    }

    DeviceBuffer dQkv = h.bf16(qkv);
    DeviceBuffer dK = h.bf16(kCache);
    DeviceBuffer dV = h.bf16(vCache);
    DeviceBuffer dPos = h.ints(positions);
    DeviceBuffer dSlots = h.ints(slots);
    DeviceBuffer table = h.track(h.context().allocate(4L * TABLE_POSITIONS * headDim));
    table.upload(RopeTable.cosSin(TABLE_POSITIONS, headDim, THETA));
    RopeKvParams plain = new RopeKvParams(dQkv.address(), dQkv.address(2L * qw),
        dQkv.address(2L * (qw + kw)), dK.address(), dV.address(), dPos.address(),
        dSlots.address(), table.address(), n, qHeads, kvHeads, headDim, row, row, row,
        TABLE_POSITIONS);
    RopeKvParams biased = bias == null ? plain : bias.on(h, plain);
    RopeKvParams normed = norms == null ? biased : norms.on(h, biased);
    DeviceBuffer dQ = qOut ? h.poisonedBf16((long) n * qw) : null;
    RopeKvParams p = qOut ? normed.withQOut(dQ.address(), qw) : normed;
    h.launch(Kernel.ROPE_KV_APPEND, p.launch(), p);
    double err = Compare.relError(h.readBf16(dQkv, n * row), expectedQkv);
    if (qOut) err = Compare.worst(err, Compare.relError(h.readBf16(dQ, n * qw), q));
    err = Compare.worst(err, slotError(h.readBf16(dK, kCache.length), expectedK, slots, kw));
    err = Compare.worst(err, slotError(h.readBf16(dV, vCache.length), expectedV, slots, kw));
    if (untouchedSlotsChanged(h.readBf16(dK, kCache.length), kCache, slots, kw)) {
      err = Double.NaN;
    }
    // Timing rotates q and k again each run: the work is the same, the values drift.
    double us = h.medianUs(() -> h.launch(Kernel.ROPE_KV_APPEND, p.launch(), p));
    double bytes = 2.0 * n * (2 * qw + 2 * kw + kw + 2 * kw) + 4.0 * n * headDim;
    String variant = (biases ? " biases" : "") + (qkNorm ? " q/k norm" : "") + (qOut ? " q out" : "");
    return h.result("rope+kv append" + variant,
        String.format("n=%d Hq=%d Hkv=%d D=%d bs=%d", n, qHeads, kvHeads, headDim, blockSize),
        err, Compare.BF16, us, bytes, 6.0 * n * (qw + kw) / 2);
  }

  /**
   * A layer's q and k norm weights (headDim each, bf16 values around 1, as trained norms are) and
   * their reference: each head RMS-normed over headDim with {@link #QK_NORM_EPS}.
   */
  record QkNorms(float[] q, float[] k) {
    static QkNorms random(DeviceHarness h, int headDim) {
      float[] q = h.randomBf16(headDim, 0.3);
      float[] k = h.randomBf16(headDim, 0.3);
      for (int i = 0; i < headDim; i++) {
        q[i] = Bf16.round(1f + q[i]);
        k[i] = Bf16.round(1f + k[i]);
      }
      return new QkNorms(q, k);
    }

    /** The CPU backend's q/k norms of (n, qHeads, headDim) q and (n, kvHeads, headDim) k, in place. */
    void apply(float[] qs, float[] ks, int n, int qHeads, int kvHeads, int headDim) {
      RmsNorm.forward(qs, q, QK_NORM_EPS, n * qHeads, headDim, qs);
      RmsNorm.forward(ks, k, QK_NORM_EPS, n * kvHeads, headDim, ks);
    }

    /** {@code p} with these weights uploaded as its q/k norms. */
    RopeKvParams on(DeviceHarness h, RopeKvParams p) {
      return p.withQkNorm(h.bf16(q).address(), h.bf16(k).address(), QK_NORM_EPS);
    }
  }

  /**
   * A layer's q, k and v projection biases (bf16 of standard deviation {@code std}: Qwen2's k biases
   * run to tens) and their reference, {@code CpuWeights.addBias}'s: each row of q, k and v plus its
   * bias, in float32.
   */
  record Biases(float[] q, float[] k, float[] v) {
    static Biases random(DeviceHarness h, int qWidth, int kvWidth, double std) {
      return new Biases(h.randomBf16(qWidth, std), h.randomBf16(kvWidth, std), h.randomBf16(kvWidth, std));
    }

    void apply(float[] qs, float[] ks, float[] vs, int n) {
      for (int t = 0; t < n; t++) {
        for (int i = 0; i < q.length; i++) qs[t * q.length + i] += q[i];
        for (int i = 0; i < k.length; i++) {
          ks[t * k.length + i] += k[i];
          vs[t * k.length + i] += v[i];
        }
      }
    }

    /** {@code p} with these biases uploaded as its q, k and v biases. */
    RopeKvParams on(DeviceHarness h, RopeKvParams p) {
      return p.withBiases(h.bf16(q).address(), h.bf16(k).address(), h.bf16(v).address());
    }
  }

  private static int[] distinctSlots(DeviceHarness h, int n, int total) {
    int[] all = new int[total];
    for (int i = 0; i < total; i++) {
      all[i] = i;
    }
    for (int i = 0; i < n; i++) {
      int j = i + h.random().nextInt(total - i);
      int t = all[i];
      all[i] = all[j];
      all[j] = t;
    }
    return java.util.Arrays.copyOf(all, n);
  }

  /** Error over the appended slots only: the rest of the cache would dilute it. */
  private static double slotError(float[] got, float[] expected, int[] slots, int width) {
    double err = 0.0;
    for (int s : slots) {
      if (s >= 0) {
        err = Compare.worst(err, Compare.relError(got, expected, s * width, (s + 1) * width));
      }
    }
    return err;
  }

  private static boolean untouchedSlotsChanged(float[] got, float[] before, int[] slots,
      int width) {
    boolean[] appended = new boolean[before.length / width];
    for (int s : slots) {
      if (s >= 0) {
        appended[s] = true;
      }
    }
    for (int i = 0; i < before.length; i++) {
      if (!appended[i / width] && Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(before[i])) {
        return true;
      }
    }
    return false;
  }
}
