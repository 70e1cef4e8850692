package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.engine.DummyWeights;
import io.decodefleet.kernels.cuda.DecodeAttentionGraphParams;
import io.decodefleet.kernels.cuda.DecodeAttentionParams;
import io.decodefleet.kernels.cuda.DecodeAttentionPlan;
import io.decodefleet.kernels.cuda.DummyWeightsFp8Params;
import io.decodefleet.kernels.cuda.DummyWeightsParams;
import io.decodefleet.kernels.cuda.Fp8DequantParams;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.LaunchShape;
import io.decodefleet.kernels.cuda.RopeKvFp8Params;
import io.decodefleet.kernels.cuda.RopeKvParams;
import io.decodefleet.kernels.cuda.RopeTable;
import io.decodefleet.kernels.reference.Fp8E4m3;
import io.decodefleet.kernels.reference.PagedAttention;
import io.decodefleet.kernels.reference.PagedKvCache;
import io.decodefleet.kernels.reference.Rope;
import java.util.Arrays;

/**
 * The kernels the CUDA backend runs with FP8 weights or an FP8 KV cache, against their CPU
 * references: the tensor-core decode attention over FP8 pages (eager split + combine, persistent,
 * and both graph variants) against {@link PagedAttention#forwardFp8} on shuffled pages whose
 * unreadable slots hold the NaN code; the FP8 RoPE + append against {@link Rope} and {@link
 * PagedKvCache#appendFp8}; the FP8 dummy weights (amax pass, then codes) code for code against the
 * CPU backend's quantization of the same hash; the widening of FP8 weights to bf16 exactly.
 */
final class Fp8CacheChecks {

  private static final float K_SCALE = 0.25f;
  private static final float V_SCALE = 0.0078125f;
  /**
   * K and V scales that make nearly every code of the cache subnormal (|value| / 256 below 2^-6): a
   * widening that flushed subnormals would read a cache of zeros.
   */
  static final float SUBNORMAL_SCALE = 256f;

  private Fp8CacheChecks() {}

  /** A paged check's caches as codes (NaN stays the NaN code), their scales and the FP8 reference output. */
  private record Fp8Paged(BackendKernelChecks.Paged in, byte[] k, byte[] v, float kScale, float vScale,
      float[] expected) {}

  private static Fp8Paged fp8Inputs(DeviceHarness h, int qHeads, int kvHeads, int d, int bs, int[] contexts,
      float kScale, float vScale) {
    BackendKernelChecks.Paged in = BackendKernelChecks.pagedInputs(h, qHeads, kvHeads, d, bs, contexts);
    byte[] k = new byte[in.kCache().length];
    byte[] v = new byte[in.vCache().length];
    Fp8E4m3.encode(in.kCache(), 0, k.length, kScale, k, 0);
    Fp8E4m3.encode(in.vCache(), 0, v.length, vScale, v, 0);
    float[] expected = new float[in.q().length];
    PagedAttention.forwardFp8(in.q(), in.batch(), qHeads, kvHeads, d, k, v, kScale, vScale, bs, in.tables(),
        contexts, (float) (1.0 / Math.sqrt(d)), expected);
    return new Fp8Paged(in, k, v, kScale, vScale, expected);
  }

  /** Eager decode attention over FP8 pages: split + combine, or persistent; run twice (counters, races). */
  static CheckResult decodeAttention(DeviceHarness h, boolean persistent, int qHeads, int kvHeads, int d, int bs,
      int[] contexts) {
    return decodeAttention(h, persistent, qHeads, kvHeads, d, bs, contexts, K_SCALE, V_SCALE);
  }

  /** As above over a cache quantized with these scales ({@link #SUBNORMAL_SCALE}: subnormal codes). */
  static CheckResult decodeAttention(DeviceHarness h, boolean persistent, int qHeads, int kvHeads, int d, int bs,
      int[] contexts, float kScale, float vScale) {
    Fp8Paged f = fp8Inputs(h, qHeads, kvHeads, d, bs, contexts, kScale, vScale);
    BackendKernelChecks.Paged in = f.in();
    Kernel probe = new DecodeAttentionParams(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, qHeads, kvHeads, d, bs,
        Integer.numberOfTrailingZeros(bs), 1, 64, 0, 1f).kernel(persistent, true);
    int slots = h.kernels().slots(probe);
    DecodeAttentionPlan plan = DecodeAttentionPlan.plan(contexts, kvHeads, slots);
    int group = qHeads / kvHeads;
    DeviceBuffer out = h.poisonedBf16(f.expected().length);
    DecodeAttentionParams p = DecodeAttentionParams.of(plan, new DecodeAttentionParams.Buffers(out.address(),
        h.bf16(in.q()).address(), h.bytes(f.k()).address(), h.bytes(f.v()).address(),
        h.ints(in.flatTables()).address(), h.ints(contexts).address(), h.ints(plan.workItems()).address(),
        h.ints(plan.partialBase()).address(), h.poisonedF32(Math.max(1L, (long) plan.numPartials() * group * d))
        .address(), h.poisonedF32(Math.max(1L, (long) plan.numPartials() * group)).address(),
        h.zeroedInts(plan.counterCount()).address()), qHeads, d, bs, in.stride(), (float) (1.0 / Math.sqrt(d)))
        .withKvScales(f.kScale(), f.vScale());
    Kernel k = p.kernel(persistent, true);
    Runnable run = persistent
        ? () -> h.launch(k, plan.persistentLaunch(k, slots), p)
        : () -> {
          h.launch(k, plan.splitLaunch(k), p);
          if (plan.needsCombine()) h.launch(p.combineKernel(), plan.combineLaunch(p.combineKernel()), p);
        };
    return twice(h, run, out, f, persistent ? "decode attn fp8 persistent" : "decode attn fp8 split+combine",
        shape(in, qHeads, kvHeads, d, bs) + " chunk=" + plan.chunkTokens()
        + (kScale == SUBNORMAL_SCALE ? " subnormal codes" : ""), qHeads, d);
  }

  /** The graph variants over FP8 pages: grid fixed at the plan's bound, the step's plan in device memory. */
  static CheckResult decodeGraph(DeviceHarness h, boolean persistent, int qHeads, int kvHeads, int d, int bs,
      int[] contexts) {
    Fp8Paged f = fp8Inputs(h, qHeads, kvHeads, d, bs, contexts, K_SCALE, V_SCALE);
    BackendKernelChecks.Paged in = f.in();
    Kernel probe = persistent
        ? (d == 64 ? Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_FP8_D64 : Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_FP8_D128)
        : (d == 64 ? Kernel.DECODE_ATTENTION_GRAPH_FP8_D64 : Kernel.DECODE_ATTENTION_GRAPH_FP8_D128);
    int slots = h.kernels().slots(probe);
    DecodeAttentionPlan plan = DecodeAttentionPlan.plan(contexts, kvHeads, slots);
    int maxItems = DecodeAttentionPlan.maxItems(in.batch(), kvHeads, slots);
    int group = qHeads / kvHeads;
    DeviceBuffer out = h.poisonedBf16(f.expected().length);
    DecodeAttentionGraphParams p = new DecodeAttentionGraphParams(out.address(), h.bf16(in.q()).address(),
        h.bytes(f.k()).address(), h.bytes(f.v()).address(), h.ints(in.flatTables()).address(),
        h.ints(contexts).address(), h.ints(plan.workItems()).address(), h.ints(plan.partialBase()).address(),
        h.poisonedF32((long) maxItems * group * d).address(), h.poisonedF32((long) maxItems * group).address(),
        h.zeroedInts(plan.counterCount()).address(),
        h.ints(new int[] {plan.numItems(), plan.chunkTokens(), in.stride(), 0}).address(), in.batch(), qHeads,
        kvHeads, d, bs, Integer.numberOfTrailingZeros(bs), (float) (1.0 / Math.sqrt(d) / Math.log(2.0)))
        .withKvScales(K_SCALE, V_SCALE);
    Kernel k = p.kernel(persistent, true);
    Runnable run = persistent
        ? () -> h.launch(k, LaunchShape.grid1d(slots, k), p)
        : () -> {
          h.launch(k, LaunchShape.grid1d(maxItems, k), p);
          h.launch(p.combineKernel(), p.combineLaunch(), p);
        };
    return twice(h, run, out, f, persistent ? "decode attn graph fp8 persistent" : "decode attn graph fp8 split",
        shape(in, qHeads, kvHeads, d, bs) + " chunk=" + plan.chunkTokens(), qHeads, d);
  }

  private static CheckResult twice(DeviceHarness h, Runnable run, DeviceBuffer out, Fp8Paged f, String name,
      String shape, int qHeads, int d) {
    run.run();
    double err = Compare.relError(h.readBf16(out, f.expected().length), f.expected());
    double us = h.medianUs(run);
    out.fill16(DeviceHarness.BF16_NAN);
    run.run();
    err = Compare.worst(err, Compare.relError(h.readBf16(out, f.expected().length), f.expected()));
    return h.result(name, shape, err, Compare.BF16, us, f.in().kvBytes() / 2.0 + 4.0 * f.in().q().length,
        4.0 * d * qHeads * Arrays.stream(f.in().contexts()).asLongStream().sum());
  }

  private static String shape(BackendKernelChecks.Paged in, int qHeads, int kvHeads, int d, int bs) {
    int[] c = in.contexts();
    String ctx = c.length <= 3 ? Arrays.toString(c)
        : "[" + Arrays.stream(c).min().getAsInt() + ".." + Arrays.stream(c).max().getAsInt() + "]";
    return String.format("b=%d ctx=%s Hq=%d Hkv=%d D=%d bs=%d", c.length, ctx, qHeads, kvHeads, d, bs);
  }

  /**
   * RoPE + FP8 append on a fused qkv buffer, one padding token (slot -1): the cache's codes at the
   * written slots decode to the reference's (the float32 rotation, then appendFp8), the qkv buffer
   * holds rotated q and the decoded k and v, and no other slot changed.
   */
  static CheckResult ropeAppend(DeviceHarness h, int n, int qHeads, int kvHeads, int d, int bs, int numBlocks) {
    return ropeAppend(h, n, qHeads, kvHeads, d, bs, numBlocks, false);
  }

  /** With {@code qkNorm}, each q and k head is RMS-normed before its rotation (the codes are the normed k's). */
  static CheckResult ropeAppend(DeviceHarness h, int n, int qHeads, int kvHeads, int d, int bs, int numBlocks,
      boolean qkNorm) {
    return ropeAppend(h, n, qHeads, kvHeads, d, bs, numBlocks, qkNorm, false);
  }

  /**
   * With {@code biases}, q, k and v first get a projection bias each (standard deviation 1, so that
   * few biased v stay beyond the V scale's range); the codes are the biased values'.
   */
  static CheckResult ropeAppend(DeviceHarness h, int n, int qHeads, int kvHeads, int d, int bs, int numBlocks,
      boolean qkNorm, boolean biases) {
    int row = (qHeads + 2 * kvHeads) * d;
    int qw = qHeads * d;
    int kw = kvHeads * d;
    int positionsInTable = 8192;
    float[] qkv = h.randomBf16(n * row, 1.0);
    byte[] k8 = new byte[numBlocks * bs * kw];
    byte[] v8 = new byte[numBlocks * bs * kw];
    Arrays.fill(k8, (byte) 0x7f); // NaN codes: a slot not written must stay so
    Arrays.fill(v8, (byte) 0x7f);
    int[] positions = new int[n];
    int[] slots = new int[n];
    int[] free = shuffledSlots(h, numBlocks * bs);
    for (int t = 0; t < n; t++) {
      positions[t] = h.random().nextInt(positionsInTable);
      slots[t] = t == n - 1 && n > 1 ? -1 : free[t];
    }
    float[] q = new float[n * qw];
    float[] k = new float[n * kw];
    float[] v = new float[n * kw];
    for (int t = 0; t < n; t++) {
      System.arraycopy(qkv, t * row, q, t * qw, qw);
      System.arraycopy(qkv, t * row + qw, k, t * kw, kw);
      System.arraycopy(qkv, t * row + qw + kw, v, t * kw, kw);
    }
    double theta = 500000.0;
    RopeKvCheck.Biases bias = biases ? RopeKvCheck.Biases.random(h, qw, kw, 1.0) : null;
    if (bias != null) bias.apply(q, k, v, n);
    RopeKvCheck.QkNorms norms = qkNorm ? RopeKvCheck.QkNorms.random(h, d) : null;
    if (norms != null) norms.apply(q, k, n, qHeads, kvHeads, d);
    Rope.apply(q, n, qHeads, d, positions, theta);
    Rope.apply(k, n, kvHeads, d, positions, theta);
    byte[] expectedK = k8.clone();
    byte[] expectedV = v8.clone();
    PagedKvCache.appendFp8(k, v, n, slots, expectedK, expectedV, kvHeads, d, K_SCALE, V_SCALE);
    float[] expectedQkv = qkv.clone();
    for (int t = 0; t < n; t++) {
      System.arraycopy(q, t * qw, expectedQkv, t * row, qw);
      for (int i = 0; i < kw; i++) {
        expectedQkv[t * row + qw + i] = Fp8E4m3.round(k[t * kw + i] / K_SCALE) * K_SCALE;
        expectedQkv[t * row + qw + kw + i] = Fp8E4m3.round(v[t * kw + i] / V_SCALE) * V_SCALE;
      }
    }
    DeviceBuffer dQkv = h.bf16(qkv);
    DeviceBuffer dK = h.bytes(k8);
    DeviceBuffer dV = h.bytes(v8);
    DeviceBuffer table = h.track(h.context().allocate(4L * positionsInTable * d));
    table.upload(RopeTable.cosSin(positionsInTable, d, theta));
    RopeKvParams plain = new RopeKvParams(dQkv.address(), dQkv.address(2L * qw),
        dQkv.address(2L * (qw + kw)), dK.address(), dV.address(), h.ints(positions).address(),
        h.ints(slots).address(), table.address(), n, qHeads, kvHeads, d, row, row, row, positionsInTable);
    RopeKvParams biased = bias == null ? plain : bias.on(h, plain);
    RopeKvFp8Params p = RopeKvFp8Params.of(norms == null ? biased : norms.on(h, biased), K_SCALE, V_SCALE);
    h.launch(Kernel.ROPE_KV_APPEND_FP8, p.launch(), p);
    double err = Compare.relError(h.readBf16(dQkv, n * row), expectedQkv);
    err = Compare.worst(err, codeError(readBytes(h, dK, k8.length), expectedK, K_SCALE));
    err = Compare.worst(err, codeError(readBytes(h, dV, v8.length), expectedV, V_SCALE));
    double us = h.medianUs(() -> h.launch(Kernel.ROPE_KV_APPEND_FP8, p.launch(), p));
    double bytes = 2.0 * n * (2 * qw + 4 * kw) + 2.0 * n * kw + 4.0 * n * d;
    return h.result("rope+kv append fp8" + (biases ? " biases" : "") + (qkNorm ? " q/k norm" : ""),
        String.format("n=%d Hq=%d Hkv=%d D=%d bs=%d", n, qHeads, kvHeads, d, bs), err, Compare.BF16, us, bytes, 6.0 * n * (qw + kw) / 2);
  }

  /**
   * Relative L2 error of the decoded caches over every slot; NaN when any slot's NaN-ness differs
   * (a slot written that should not be, or one left unwritten). A float32 rotation that lands on the
   * other side of an e4m3 midpoint than the reference's costs one code step in one element.
   */
  private static double codeError(byte[] got, byte[] expected, float scale) {
    float[] g = new float[got.length];
    float[] e = new float[expected.length];
    for (int i = 0; i < g.length; i++) {
      g[i] = Fp8E4m3.decode(got[i]) * scale;
      e[i] = Fp8E4m3.decode(expected[i]) * scale;
      if (Float.isNaN(g[i]) != Float.isNaN(e[i])) return Double.NaN;
      if (Float.isNaN(g[i])) g[i] = e[i] = 0f;
    }
    return Compare.relError(g, e);
  }

  private static int[] shuffledSlots(DeviceHarness h, int total) {
    int[] a = new int[total];
    for (int i = 0; i < total; i++) a[i] = i;
    for (int i = total - 1; i > 0; i--) {
      int j = h.random().nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** The bytes of a device buffer (of an even length), through the harness's 16-bit download. */
  static byte[] readBytes(DeviceHarness h, DeviceBuffer b, int n) {
    h.stream().synchronize("kernel");
    short[] s = b.downloadShorts((n + 1) / 2);
    byte[] out = new byte[n];
    for (int i = 0; i < n; i++) out[i] = (byte) (s[i / 2] >> (8 * (i % 2)));
    return out;
  }

  /**
   * A dummy projection quantized on the device (amax pass in pieces, then codes and row scales),
   * code for code and scale for scale against the CPU backend's quantization of the same hash
   * (DummyWeights values, Fp8E4m3.scaleFor, encode): the error is the share of codes that differ.
   */
  static CheckResult dummyWeights(DeviceHarness h, long seed, long tensorId, int rows, int cols, float scale) {
    int n = rows * cols;
    float[] values = new float[n];
    for (int i = 0; i < n; i++) values[i] = scale * DummyWeights.uniform(seed, tensorId, i);
    float s = Fp8E4m3.scaleFor(values);
    DeviceBuffer out = h.poisonedBf16((n + 1) / 2);
    DeviceBuffer rowScales = h.poisonedF32(rows);
    DeviceBuffer amax = h.zeroedInts(1);
    int piece = (n / 3 + 15) / 16 * 16; // three amax pieces, as a tensor past MAX_N is done
    Runnable run = () -> {
      amax.fill32(0);
      for (int first = 0; first < n; first += piece) {
        DummyWeightsFp8Params a = DummyWeightsFp8Params.of(DummyWeightsParams.of(out.address(first),
            Math.min(piece, n - first), seed, tensorId, first, scale, 0f), amax.address(), rowScales.address(), 0);
        h.launch(Kernel.DUMMY_WEIGHTS_AMAX, a.launch(), a);
      }
      DummyWeightsFp8Params q = DummyWeightsFp8Params.of(DummyWeightsParams.of(out.address(), n, seed, tensorId, 0,
          scale, 0f), amax.address(), rowScales.address(), rows);
      h.launch(Kernel.DUMMY_WEIGHTS_FP8, q.launch(), q);
    };
    run.run();
    byte[] got = readBytes(h, out, n);
    float[] gotScales = h.readF32(rowScales, rows);
    long wrong = 0;
    for (int i = 0; i < n; i++) {
      if (got[i] != Fp8E4m3.encode(values[i] / s)) wrong++;
    }
    for (float g : gotScales) {
      if (Float.floatToIntBits(g) != Float.floatToIntBits(s)) wrong++;
    }
    double us = h.medianUs(run);
    return h.result("dummy weights fp8", String.format("%d x %d seed=%x", rows, cols, seed), (double) wrong / n,
        Compare.EXACT, us, (double) n, 0);
  }

  /** FP8 codes with a scale per row widened to bf16: exactly bf16(e4m3(code) * scale). */
  static CheckResult dequant(DeviceHarness h, int rows, int cols) {
    byte[] codes = new byte[rows * cols];
    for (int i = 0; i < codes.length; i++) codes[i] = Fp8E4m3.encode((float) (h.random().nextGaussian() * 100));
    float[] scales = new float[rows];
    for (int r = 0; r < rows; r++) scales[r] = (float) (0.5 + h.random().nextDouble()) / 100f;
    float[] expected = new float[codes.length];
    for (int i = 0; i < codes.length; i++) {
      expected[i] = io.decodefleet.kernels.cuda.Bf16.round(Fp8E4m3.decode(codes[i]) * scales[i / cols]);
    }
    DeviceBuffer out = h.poisonedBf16(codes.length);
    Fp8DequantParams p = new Fp8DequantParams(out.address(), h.bytes(codes).address(), h.f32(scales).address(), rows,
        cols, 1);
    Runnable run = () -> h.launch(Kernel.FP8_DEQUANT, p.launch(), p);
    run.run();
    double err = Compare.relError(h.readBf16(out, codes.length), expected);
    double us = h.medianUs(run);
    return h.result("fp8 dequant", String.format("%d x %d per-channel", rows, cols), err, Compare.EXACT, us,
        3.0 * codes.length, 0);
  }
}
