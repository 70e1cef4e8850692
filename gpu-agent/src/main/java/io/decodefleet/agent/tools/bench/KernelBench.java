package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.driver.CopyBandwidth;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.gemm.CublasLtGemms;
import io.decodefleet.agent.backend.cuda.gemm.GemmShape;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.backend.cuda.gemm.Skinny2Gemms;
import io.decodefleet.agent.backend.cuda.gemm.WgmmaGemms;
import io.decodefleet.agent.cublas.CublasLt;
import io.decodefleet.agent.tools.selfcheck.DeviceHarness;
import io.decodefleet.kernels.cuda.DecodeAttentionParams;
import io.decodefleet.kernels.cuda.GemmParams;
import io.decodefleet.kernels.cuda.GemvFp8Params;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.LaunchShape;
import io.decodefleet.kernels.cuda.Skinny2GemmParams;
import io.decodefleet.kernels.cuda.Skinny2GemmPlan;
import io.decodefleet.kernels.cuda.SkinnyGemmParams;
import io.decodefleet.kernels.cuda.SkinnyGemmPlan;
import io.decodefleet.kernels.cuda.WgmmaGemmParams;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The grids of {@code gpu-agent bench kernels}: the device-to-device copy (the ceiling), paged
 * decode attention (both variants) and the GEMMs of the Llama-3-8B projections: our skinny GEMM,
 * our second skinny GEMM (up to 16 rows), our tensor-core GEMM, our wgmma GEMM (sm_90, from 64 rows)
 * and cuBLASLt side by side on the same shapes and inputs, at decode batches and, in TFLOP/s, at
 * prefill sizes ({@link PrefillGemmBench}); a continued prompt span's attention over its cached
 * prefix ({@link PagedPrefillAttentionBench}); the mixture-of-experts kernels on Mixtral's and
 * Qwen3-MoE's layers ({@link MoeKernelBench}).
 */
public final class KernelBench {

  public static final int[] DECODE_BATCHES = {1, 8, 32, 64};
  public static final int[] DECODE_CONTEXTS = {1024, 4096, 16384};
  public static final int DECODE_Q_HEADS = 32;
  public static final int DECODE_KV_HEADS = 8;
  public static final int DECODE_HEAD_DIM = 128;
  public static final int DECODE_BLOCK = 16;
  /** (batch, context) points also timed over an FP8 e4m3 cache, beside their bf16 rows. */
  public static final int[][] DECODE_FP8_POINTS = {{1, 16384}, {64, 16384}};
  public static final int[] GEMM_M = {1, 8, 16, 32, 64, 128, 256};
  /** (n, k) of the Llama-3-8B projections: qkv, o, gate_up, down. */
  public static final int[][] GEMM_NK = {{6144, 4096}, {4096, 4096}, {28672, 4096}, {4096, 14336}};

  private static final String FORMAT = "%-20s %-12s %-34s %10s %9s %10s %7s%n";

  private KernelBench() {}

  /** The bench's parts, as {@code --only} names them. */
  public enum Section {
    /** Decode attention, both variants, over batch × context. */
    ATTENTION,
    /**
     * The decode GEMM grid ({@link #GEMM_M} rows): skinny, skinny2 to 16 rows, tensor-core, wgmma from 64 rows,
     * cuBLASLt; then the FP8-weight GEMMs ({@link Fp8GemmBench}).
     */
    GEMM,
    /** The prefill GEMM grid ({@link PrefillGemmBench#PREFILL_M} rows) in TFLOP/s. */
    PREFILL_GEMM,
    /** A continued prompt span over its cached prefix: the paged prefill kernel against decode rows. */
    PREFILL_ATTENTION_PAGED,
    /** The mixture-of-experts kernels at decode batches ({@link MoeKernelBench}). */
    MOE;

    public static Section parse(String text) {
      for (Section s : values()) {
        if (s.name().replace('_', '-').equalsIgnoreCase(text.strip())) return s;
      }
      throw new IllegalArgumentException("--only takes attention, gemm, prefill-gemm, prefill-attention-paged or moe"
          + " (was '" + text + "')");
    }
  }

  /** Runs every grid point on {@code h}'s GPU, printing rows as they complete. */
  public static List<BenchResult> run(DeviceHarness h, PrintStream out) {
    return run(h, out, EnumSet.allOf(Section.class));
  }

  /** Runs the grids of {@code sections} (the copy row always), printing rows as they complete. */
  public static List<BenchResult> run(DeviceHarness h, PrintStream out, Set<Section> sections) {
    List<BenchResult> results = new ArrayList<>();
    double copyPerUs = h.copyBytesPerUs();
    out.printf(Locale.ROOT, FORMAT, "kernel", "variant", "shape", "time us", "TB/s", "floor us",
        "gap");
    BenchResult copy = copyRow(h, copyPerUs);
    print(out, copy);
    results.add(copy);
    if (sections.contains(Section.ATTENTION)) {
      for (int batch : DECODE_BATCHES) {
        for (int ctx : DECODE_CONTEXTS) {
          for (BenchResult r : decodeAttention(h, batch, ctx, copyPerUs, false)) {
            print(out, r);
            results.add(r);
          }
          h.freeAll();
          for (int[] point : DECODE_FP8_POINTS) {
            if (point[0] != batch || point[1] != ctx) continue;
            for (BenchResult r : decodeAttention(h, batch, ctx, copyPerUs, true)) {
              print(out, r);
              results.add(r);
            }
            h.freeAll();
          }
        }
      }
    }
    String lt = CublasLt.isAvailable() ? "" : CublasLt.unavailabilityCause();
    if (!lt.isEmpty()) {
      out.println("(no cuBLASLt rows: " + lt + ")");
    }
    String wgmma = WgmmaGemms.unavailabilityCause(h.gpu());
    if (!wgmma.isEmpty()) {
      out.println("(no wgmma rows: " + wgmma + ")");
    }
    String skinny2 = Skinny2Gemms.unavailabilityCause();
    if (!skinny2.isEmpty() && sections.contains(Section.GEMM)) {
      out.println("(no skinny2 rows: " + skinny2 + ")");
    }
    if (sections.contains(Section.GEMM)) {
      decodeGemms(h, out, copyPerUs, lt.isEmpty(), wgmma.isEmpty(), skinny2.isEmpty(), results);
    }
    if (sections.contains(Section.PREFILL_GEMM)) {
      results.addAll(PrefillGemmBench.run(h, out, lt.isEmpty(), wgmma.isEmpty()));
    }
    if (sections.contains(Section.PREFILL_ATTENTION_PAGED)) {
      results.addAll(PagedPrefillAttentionBench.run(h, out));
    }
    if (sections.contains(Section.MOE)) {
      results.addAll(MoeKernelBench.run(h, copyPerUs, r -> print(out, r)));
    }
    return results;
  }

  private static void decodeGemms(DeviceHarness h, PrintStream out, double copyPerUs, boolean withLt,
      boolean withWgmma, boolean withSkinny2, List<BenchResult> results) {
    for (int[] nk : GEMM_NK) {
      for (int m : GEMM_M) {
        // Ours and cuBLASLt side by side on the same shape, inputs and timing.
        List<BenchResult> rows = new ArrayList<>();
        rows.add(skinnyGemm(h, m, nk[0], nk[1], copyPerUs));
        h.freeAll();
        if (m == 1 && GemvFp8Params.mmaFitsBf16(nk[0], nk[1])) {
          rows.addAll(gemvBf16(h, nk[0], nk[1], false, false, copyPerUs));
          h.freeAll();
          if (nk[1] == GEMM_NK[0][1]) { // a projection of the hidden state (qkv, gate_up): the norm in front
            boolean gateUp = nk[0] == 2 * GEMM_NK[3][1];
            rows.addAll(gemvBf16(h, nk[0], nk[1], true, gateUp, copyPerUs));
            h.freeAll();
          }
        }
        if (withSkinny2 && m <= GemmTuner.SKINNY2_MAX_ROWS) {
          rows.add(skinny2Gemm(h, m, nk[0], nk[1], copyPerUs));
          h.freeAll();
        }
        if (m >= GemmTuner.TENSOR_CORE_MIN_ROWS) {
          rows.add(tensorCoreGemm(h, m, nk[0], nk[1], copyPerUs));
          h.freeAll();
        }
        if (withWgmma && m >= GemmTuner.WGMMA_MIN_ROWS) {
          rows.add(wgmmaGemm(h, m, nk[0], nk[1], copyPerUs));
          h.freeAll();
        }
        if (withLt) {
          rows.add(cublasLtGemm(h, m, nk[0], nk[1], copyPerUs));
          h.freeAll();
        }
        for (BenchResult r : rows) {
          print(out, r);
          results.add(r);
        }
      }
    }
    for (BenchResult r : Fp8GemmBench.run(h, copyPerUs, withSkinny2, withWgmma, withLt)) {
      print(out, r);
      results.add(r);
    }
  }

  private static BenchResult copyRow(DeviceHarness h, double copyPerUs) {
    long bytes = CopyBandwidth.DEFAULT_BYTES;
    return new BenchResult("copy", "d2d", Map.of("bytes", bytes), 2.0 * bytes / copyPerUs,
        2.0 * bytes, 2.0 * bytes / copyPerUs, 1, 1);
  }

  /**
   * Split+combine and persistent on one (batch, context) point; same inputs for both. With {@code
   * fp8} the cache holds e4m3 codes (half the bytes, floor halved) and the FP8 kernels run.
   */
  static List<BenchResult> decodeAttention(DeviceHarness h, int batch, int ctx, double copyPerUs, boolean fp8) {
    int d = DECODE_HEAD_DIM;
    int hkv = DECODE_KV_HEADS;
    int pagesPerSeq = (ctx + DECODE_BLOCK - 1) / DECODE_BLOCK;
    int pagesPerSet = batch * pagesPerSeq;
    long slotBytes = (long) hkv * d * (fp8 ? 1 : 2);
    long kvBytesPerSet = 2L * pagesPerSet * DECODE_BLOCK * slotBytes;
    int sets = BenchPool.inputSets(kvBytesPerSet, h.gpu().l2Bytes());
    long poolElems = (long) sets * pagesPerSet * DECODE_BLOCK * hkv * d;
    DeviceBuffer k = fp8 ? BenchPool.randomFp8(h, poolElems, 1, 1f) : BenchPool.randomBf16(h, poolElems, 1, 1f);
    DeviceBuffer v = fp8 ? BenchPool.randomFp8(h, poolElems, 2, 1f) : BenchPool.randomBf16(h, poolElems, 2, 1f);
    int[] contexts = new int[batch];
    Arrays.fill(contexts, ctx);
    List<DeviceBuffer> tables = new ArrayList<>();
    List<DeviceBuffer> queries = new ArrayList<>();
    for (int s = 0; s < sets; s++) {
      int[] table = shuffledRange(h, s * pagesPerSet, pagesPerSet);
      tables.add(h.ints(table));
      queries.add(BenchPool.randomBf16(h, (long) batch * DECODE_Q_HEADS * d, 100 + s, 1f));
    }
    DeviceBuffer out = h.poisonedBf16((long) batch * DECODE_Q_HEADS * d);
    DeviceBuffer lens = h.ints(contexts);
    List<BenchResult> rows = new ArrayList<>();
    double kvBytes = (double) batch * ctx * slotBytes * 2;
    Map<String, Long> shape = new LinkedHashMap<>();
    shape.put("batch", (long) batch);
    shape.put("context", (long) ctx);
    shape.put("kv_cache_mb", (long) (kvBytes / 1e6));
    for (boolean persistent : new boolean[] {false, true}) {
      Kernel main = new DecodeAttentionParams(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, DECODE_Q_HEADS, hkv, d, DECODE_BLOCK,
          Integer.numberOfTrailingZeros(DECODE_BLOCK), 1, 64, 0, 1f).kernel(persistent, fp8);
      DecodeAttentionRun run = DecodeAttentionRun.of(h, main, contexts, DECODE_Q_HEADS, hkv, d);
      DecodeAttentionParams[] params = new DecodeAttentionParams[sets];
      for (int s = 0; s < sets; s++) {
        params[s] = DecodeAttentionParams.of(run.plan(), run.buffers(out.address(), queries.get(s).address(),
            k.address(), v.address(), tables.get(s).address(), lens.address()),
            DECODE_Q_HEADS, d, DECODE_BLOCK, pagesPerSeq, (float) (1.0 / Math.sqrt(d)));
        if (fp8) params[s] = params[s].withKvScales(1f / 448, 1f / 448);
      }
      int launches = Math.max(BenchPool.MIN_LAUNCHES, sets);
      double us = BenchPool.graphMedianUs(h, launches, i -> run.launch(h, params[i % sets], persistent));
      Map<String, Long> s2 = new LinkedHashMap<>(shape);
      s2.put("chunk", (long) run.plan().chunkTokens());
      rows.add(new BenchResult(fp8 ? "decode_attention_fp8" : "decode_attention",
          persistent ? "persistent" : "split+combine", s2, us, kvBytes, kvBytes / copyPerUs, sets, launches));
    }
    return rows;
  }

  /**
   * The inputs every GEMM row of one (m, n, k) point shares: {@code sets} copies of w and x (their
   * total past L2), one output, and the launches per timed graph.
   */
  record GemmInputs(int m, int n, int k, int sets, DeviceBuffer w, DeviceBuffer x, DeviceBuffer out,
      int launches) {
    static GemmInputs of(DeviceHarness h, int m, int n, int k) {
      int sets = BenchPool.inputSets(2L * n * k, h.gpu().l2Bytes());
      DeviceBuffer w = BenchPool.randomBf16(h, (long) sets * n * k, 3, 0.05f);
      DeviceBuffer x = BenchPool.randomBf16(h, (long) sets * m * k, 4, 1f);
      return new GemmInputs(m, n, k, sets, w, x, h.poisonedBf16((long) m * n), Math.max(BenchPool.MIN_LAUNCHES, sets));
    }

    long w(int launch) {
      return w.address(2L * (launch % sets) * n * k);
    }

    long x(int launch) {
      return x.address(2L * (launch % sets) * m * k);
    }

    /** The weight's bytes, as the targets count them. */
    long weightBytes() {
      return 2L * n * k;
    }

    BenchResult result(String kernel, String variant, Map<String, Long> shape, double us, double copyPerUs) {
      return new BenchResult(kernel, variant, shape, us, weightBytes(), weightBytes() / copyPerUs, sets, launches);
    }
  }

  /**
   * Our one-row GEMV over bf16 weights on the tensor cores (gemv_fp8_mma.cu's bf16 kernel), resident weights, as
   * planned; with {@code norm} the residual add and RMSNorm in front, with {@code swiglu} SwiGLU behind (n gate_up
   * rows), as a one-row step runs qkv and gate_up. Plain and with SwiGLU, also a row for each other count of warps
   * a task ("w=N").
   */
  static List<BenchResult> gemvBf16(DeviceHarness h, int n, int k, boolean norm, boolean swiglu, double copyPerUs) {
    GemmInputs in = GemmInputs.of(h, 1, n, k);
    long residual = norm ? BenchPool.randomBf16(h, k, 5, 1f).address() : 0;
    long residualOut = norm ? h.poisonedBf16(k).address() : 0;
    long weight = norm ? BenchPool.randomBf16(h, k, 6, 1f).address() : 0;
    GemvFp8Params[] params = new GemvFp8Params[in.sets()];
    for (int s = 0; s < params.length; s++) {
      params[s] = GemvFp8Params.residentBf16(in.out().address(), in.x(s), in.w(s), n, k, swiglu ? n / 2 : n, false,
          swiglu);
      if (norm) params[s] = params[s].withNorm(residual, residualOut, weight, 1e-5f);
    }
    String variant = "gemv bf16" + (norm ? swiglu ? " norm+swiglu" : " norm" : "") + " mma";
    List<BenchResult> rows = new ArrayList<>();
    rows.add(in.result("gemm", variant, gemmShape(1, n, k), BenchPool.gemvMedianUs(h, in.launches(), params, true),
        copyPerUs));
    for (int w : norm == swiglu ? BenchPool.otherTaskWarps(h, params[0], true) : new int[0]) {
      rows.add(in.result("gemm", variant + " w=" + w, gemmShape(1, n, k),
          BenchPool.gemvMedianUs(h, in.launches(), params, true, w), copyPerUs));
    }
    return rows;
  }

  static BenchResult skinnyGemm(DeviceHarness h, int m, int n, int k, double copyPerUs) {
    GemmInputs in = GemmInputs.of(h, m, n, k);
    int sets = in.sets();
    Kernel kernel = SkinnyGemmPlan.kernelFor(m);
    SkinnyGemmPlan plan = SkinnyGemmPlan.plan(m, n, k, h.kernels().slots(kernel));
    long workspace = plan.splits() > 1 ? h.poisonedF32(plan.workspaceFloats()).address() : 0;
    long counters = plan.splits() > 1 ? h.zeroedInts(plan.counterCount()).address() : 0;
    SkinnyGemmParams[] params = new SkinnyGemmParams[sets];
    for (int s = 0; s < sets; s++) {
      params[s] = SkinnyGemmParams.of(plan, in.out().address(), in.x(s), in.w(s), workspace, counters, n)
          .withEarlyWeights();
    }
    double us = BenchPool.graphMedianUs(h, in.launches(),
        i -> h.launch(kernel, plan.launch(), params[i % sets]));
    Map<String, Long> shape = new LinkedHashMap<>();
    shape.put("m", (long) m);
    shape.put("n", (long) n);
    shape.put("k", (long) k);
    shape.put("splits", (long) plan.splits());
    return in.result("skinny_gemm", kernel.symbol().substring(3), shape, us, copyPerUs);
  }

  /**
   * Our second skinny GEMM (m ≤ 16) on the same point as {@link #skinnyGemm}; bytes are the weight's.
   * Its weights' tensor maps are encoded before the capture.
   */
  static BenchResult skinny2Gemm(DeviceHarness h, int m, int n, int k, double copyPerUs) {
    GemmInputs in = GemmInputs.of(h, m, n, k);
    int sets = in.sets();
    Skinny2GemmPlan plan = Skinny2GemmPlan.plan(m, n, k, h.kernels().slots(Skinny2GemmPlan.kernelFor(m)));
    long workspace = plan.splits() > 1 ? h.poisonedF32(plan.workspaceFloats()).address() : 0;
    long counters = plan.splits() > 1 ? h.zeroedInts(plan.counterCount()).address() : 0;
    Skinny2Gemms gemms = new Skinny2Gemms(h.kernels(), h.stream());
    Skinny2GemmParams[] params = new Skinny2GemmParams[sets];
    for (int s = 0; s < sets; s++) {
      params[s] = gemms.params(plan, in.out().address(), in.x(s), in.w(s), workspace, counters, n, false);
    }
    double us = BenchPool.graphMedianUs(h, in.launches(),
        i -> h.launch(plan.kernel(), plan.launch(), params[i % sets]));
    Map<String, Long> shape = gemmShape(m, n, k);
    shape.put("splits", (long) plan.splits());
    shape.put("ctas", (long) plan.ctas());
    return in.result("skinny2_gemm", plan.kernel().symbol().substring(3), shape, us, copyPerUs);
  }

  /** Our tensor-core GEMM on the same point as {@link #skinnyGemm}. */
  static BenchResult tensorCoreGemm(DeviceHarness h, int m, int n, int k, double copyPerUs) {
    GemmInputs in = GemmInputs.of(h, m, n, k);
    GemmParams[] params = new GemmParams[in.sets()];
    for (int s = 0; s < in.sets(); s++) {
      params[s] = new GemmParams(in.out().address(), in.x(s), in.w(s), m, n, k, n);
    }
    double us = BenchPool.graphMedianUs(h, in.launches(), i -> h.launch(Kernel.GEMM, params[i % in.sets()].launch(),
        params[i % in.sets()]));
    return in.result("gemm", "tensor_core", gemmShape(m, n, k), us, copyPerUs);
  }

  /** Our wgmma GEMM on the same point (sm_90 only); its tensor maps are encoded before the capture. */
  static BenchResult wgmmaGemm(DeviceHarness h, int m, int n, int k, double copyPerUs) {
    GemmInputs in = GemmInputs.of(h, m, n, k);
    WgmmaGemms gemms = new WgmmaGemms(h.kernels(), h.stream());
    GemmShape shape = new GemmShape(m, n, k, n, false);
    WgmmaGemmParams[] params = new WgmmaGemmParams[in.sets()];
    for (int s = 0; s < in.sets(); s++) {
      params[s] = gemms.params(shape, in.out().address(), in.x(s), in.w(s));
    }
    LaunchShape grid = params[0].launch(h.gpu().smCount());
    double us = BenchPool.graphMedianUs(h, in.launches(), i -> h.launch(Kernel.WGMMA_GEMM, grid, params[i % in.sets()]));
    return in.result("gemm", "wgmma", gemmShape(m, n, k), us, copyPerUs);
  }

  /**
   * cuBLASLt on the same point: each of the dispatch's candidate algorithms is timed the same way,
   * and the fastest is reported (variant {@code cublaslt#i}), as the dispatch would choose it.
   */
  static BenchResult cublasLtGemm(DeviceHarness h, int m, int n, int k, double copyPerUs) {
    GemmInputs in = GemmInputs.of(h, m, n, k);
    long out = in.out().address();
    GemmShape shape = new GemmShape(m, n, k, n, false);
    try (CublasLtGemms lt = CublasLtGemms.open(h.context(), h.stream())) {
      int algorithms = Math.min(lt.algorithms(shape), GemmTuner.CUBLASLT_CANDIDATES);
      double best = Double.NaN;
      int bestAlgorithm = -1;
      for (int a = 0; a < algorithms; a++) {
        int algorithm = a;
        lt.launch(shape, algorithm, out, in.x(0), in.w(0)); // first use outside the capture
        double us = BenchPool.graphMedianUs(h, in.launches(), i -> lt.launch(shape, algorithm, out, in.x(i), in.w(i)));
        if (bestAlgorithm < 0 || us < best) {
          best = us;
          bestAlgorithm = a;
        }
      }
      if (bestAlgorithm < 0) {
        throw new IllegalStateException("cuBLASLt offers no algorithm for " + shape);
      }
      return in.result("gemm", "cublaslt#" + bestAlgorithm, gemmShape(m, n, k), best, copyPerUs);
    }
  }

  static Map<String, Long> gemmShape(int m, int n, int k) {
    Map<String, Long> shape = new LinkedHashMap<>();
    shape.put("m", (long) m);
    shape.put("n", (long) n);
    shape.put("k", (long) k);
    return shape;
  }

  static int[] shuffledRange(DeviceHarness h, int start, int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = start + i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = h.random().nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  private static void print(PrintStream out, BenchResult r) {
    out.printf(Locale.ROOT, FORMAT, r.kernel(), r.variant(), r.shapeText(),
        String.format(Locale.ROOT, "%.2f", r.medianUs()),
        String.format(Locale.ROOT, "%.3f", r.terabytesPerSecond()),
        String.format(Locale.ROOT, "%.2f", r.floorUs()),
        String.format(Locale.ROOT, "%.2fx", r.gap()));
    out.flush();
  }
}
