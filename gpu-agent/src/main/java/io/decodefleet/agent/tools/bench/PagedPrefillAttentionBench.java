package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.GemmRate;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.tools.selfcheck.DeviceHarness;
import io.decodefleet.kernels.cuda.DecodeAttentionParams;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.PagedPrefillAttentionParams;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code prefill-attention-paged} part of {@code gpu-agent bench kernels}: one continued span
 * of a Llama-3-8B prompt (L rows at positions p .. p + L − 1, 32 query heads over 8 kv heads, head
 * dim 128, blocks of 16) attending over its cached prefix, by the paged prefill kernel and, on the
 * same inputs, by the decode kernels one row per sequence (split+combine and persistent: what the
 * backend ran before). The floor is the larger of the KV and q/out bytes over the measured copy
 * bandwidth and the FLOPs (4 · D · Hq per (row, visible position)) over the device's best
 * measured bf16 GEMM rate ({@link GemmRate}).
 */
final class PagedPrefillAttentionBench {

  /**
   * (p, L) points: chunks of 256 and 512 rows after a 2048-token prefix and 512 after 8192; then the
   * short spans a prefix-cache hit leaves (8, 16 and 64 rows after 2048), where the decode kernel's
   * split of each row's prefix over the GPU competes (StepPlan's minimum span, 16 rows at this group).
   */
  static final int[][] POINTS = {{2048, 256}, {2048, 512}, {8192, 512}, {2048, 8}, {2048, 16}, {2048, 64}};
  /** The GEMM whose rate is the FLOP floor's: as {@code bench step} measures it. */
  static final int[] GEMM_SHAPE = {8192, 4096, 4096};

  private static final String FORMAT = "%-24s %-14s %-28s %10s %9s %9s %10s %7s %9s%n";

  private PagedPrefillAttentionBench() {}

  static List<BenchResult> run(DeviceHarness h, PrintStream out) {
    double copyPerUs = h.copyBytesPerUs();
    GemmRate.Rate rate = GemmRate.measure(h.context(), h.kernels(), h.stream(), GEMM_SHAPE[0], GEMM_SHAPE[1],
        GEMM_SHAPE[2]);
    out.printf(Locale.ROOT, "paged prefill attention: FLOP floor at the best bf16 GEMM %dx%dx%d, %.0f TFLOP/s (%s)%n",
        GEMM_SHAPE[0], GEMM_SHAPE[1], GEMM_SHAPE[2], rate.flopsPerUs() / 1e6, rate.by());
    out.printf(Locale.ROOT, FORMAT, "kernel", "variant", "shape", "time us", "TB/s", "TFLOP/s", "floor us", "gap",
        "speedup");
    List<BenchResult> results = new ArrayList<>();
    for (int[] point : POINTS) {
      List<BenchResult> rows = point(h, point[0], point[1], copyPerUs, rate.flopsPerUs());
      h.freeAll();
      double paged = rows.get(0).medianUs();
      for (BenchResult r : rows) {
        out.printf(Locale.ROOT, FORMAT, r.kernel(), r.variant(), r.shapeText(),
            String.format(Locale.ROOT, "%.2f", r.medianUs()),
            String.format(Locale.ROOT, "%.3f", r.terabytesPerSecond()),
            String.format(Locale.ROOT, "%.1f", flops(point[0], point[1]) / r.medianUs() / 1e6),
            String.format(Locale.ROOT, "%.2f", r.floorUs()), String.format(Locale.ROOT, "%.2fx", r.gap()),
            String.format(Locale.ROOT, "%.2fx", r.medianUs() / paged));
        out.flush();
        results.add(r);
      }
    }
    return results;
  }

  /** 4 · D · Hq FLOPs per (row, visible position): rows see p + 1 .. p + L positions. */
  static double flops(int p, int len) {
    double visible = (double) len * p + (double) len * (len + 1) / 2;
    return 4.0 * KernelBench.DECODE_HEAD_DIM * KernelBench.DECODE_Q_HEADS * visible;
  }

  /** KV read once (the span's context), q read and out written once. */
  static double bytes(int p, int len) {
    int d = KernelBench.DECODE_HEAD_DIM;
    return 2.0 * 2 * (p + len) * KernelBench.DECODE_KV_HEADS * d + 2.0 * 2 * len * KernelBench.DECODE_Q_HEADS * d;
  }

  private static List<BenchResult> point(DeviceHarness h, int p, int len, double copyPerUs, double flopsPerUs) {
    int d = KernelBench.DECODE_HEAD_DIM;
    int hq = KernelBench.DECODE_Q_HEADS;
    int hkv = KernelBench.DECODE_KV_HEADS;
    int bs = KernelBench.DECODE_BLOCK;
    int ctx = p + len;
    int pages = (ctx + bs - 1) / bs;
    long kvBytesPerSet = 2L * pages * bs * hkv * d * 2;
    int sets = BenchPool.inputSets(kvBytesPerSet, h.gpu().l2Bytes());
    long poolElems = (long) sets * pages * bs * hkv * d;
    DeviceBuffer k = BenchPool.randomBf16(h, poolElems, 1, 1f);
    DeviceBuffer v = BenchPool.randomBf16(h, poolElems, 2, 1f);
    float scale = (float) (1.0 / Math.sqrt(d));
    int[] positions = new int[len];
    int[] contexts = new int[len];
    for (int i = 0; i < len; i++) {
      positions[i] = p + i;
      contexts[i] = p + i + 1;
    }
    DeviceBuffer starts = h.ints(new int[] {0, len});
    DeviceBuffer rowPositions = h.ints(positions);
    DeviceBuffer lens = h.ints(contexts);
    DeviceBuffer out = h.poisonedBf16((long) len * hq * d);
    List<DeviceBuffer> spanTables = new ArrayList<>();
    List<DeviceBuffer> rowTables = new ArrayList<>();
    List<DeviceBuffer> queries = new ArrayList<>();
    for (int s = 0; s < sets; s++) {
      int[] table = KernelBench.shuffledRange(h, s * pages, pages);
      spanTables.add(h.ints(table));
      int[] perRow = new int[len * pages]; // the decode kernel reads one table per row: the same one
      for (int r = 0; r < len; r++) {
        System.arraycopy(table, 0, perRow, r * pages, pages);
      }
      rowTables.add(h.ints(perRow));
      queries.add(BenchPool.randomBf16(h, (long) len * hq * d, 100 + s, 1f));
    }
    int launches = Math.max(BenchPool.MIN_LAUNCHES, sets);
    Map<String, Long> shape = new LinkedHashMap<>();
    shape.put("p", (long) p);
    shape.put("L", (long) len);
    shape.put("kv_mb", (long) (kvBytesPerSet / 1e6));
    double bytes = bytes(p, len);
    double floor = Math.max(bytes / copyPerUs, flops(p, len) / flopsPerUs);
    List<BenchResult> rows = new ArrayList<>();

    PagedPrefillAttentionParams[] paged = new PagedPrefillAttentionParams[sets];
    for (int s = 0; s < sets; s++) {
      paged[s] = PagedPrefillAttentionParams.of(out.address(), queries.get(s).address(), k.address(), v.address(),
          starts.address(), rowPositions.address(), spanTables.get(s).address(), 1, hq, hkv, d, bs, pages, scale);
    }
    double us = BenchPool.graphMedianUs(h, launches,
        i -> h.launch(paged[i % sets].kernel(), paged[i % sets].launch(len), paged[i % sets]));
    rows.add(new BenchResult("prefill_attention_paged", "span", shape, us, bytes, floor, sets, launches));

    for (boolean persistent : new boolean[] {false, true}) {
      Kernel main = persistent ? Kernel.DECODE_ATTENTION_PERSISTENT_D128 : Kernel.DECODE_ATTENTION_D128; // d = 128
      DecodeAttentionRun run = DecodeAttentionRun.of(h, main, contexts, hq, hkv, d);
      DecodeAttentionParams[] params = new DecodeAttentionParams[sets];
      for (int s = 0; s < sets; s++) {
        params[s] = DecodeAttentionParams.of(run.plan(), run.buffers(out.address(), queries.get(s).address(),
            k.address(), v.address(), rowTables.get(s).address(), lens.address()), hq, d, bs, pages, scale);
      }
      double t = BenchPool.graphMedianUs(h, launches, i -> run.launch(h, params[i % sets], persistent));
      rows.add(new BenchResult("prefill_attention_paged", persistent ? "decode-rows-p" : "decode-rows-s+c", shape, t,
          bytes, floor, sets, launches));
    }
    return rows;
  }
}
