package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.gemm.CublasLtGemms;
import io.decodefleet.agent.backend.cuda.gemm.GemmChoice;
import io.decodefleet.agent.backend.cuda.gemm.GemmShape;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.backend.cuda.gemm.Skinny2Gemms;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.kernels.cuda.Fp8QuantizeRowsParams;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.Skinny2GemmFp8Params;
import io.decodefleet.kernels.cuda.Skinny2GemmPlan;
import io.decodefleet.kernels.cuda.SwiGluParams;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;

/**
 * The projections of an fp8-dynamic model ({@code --quantization fp8-dynamic}, {@link
 * io.decodefleet.agent.engine.ModelLoad#fp8Activations}): each projection's input rows are quantized to FP8
 * e4m3 per token (df_fp8_quantize_rows: a scale per row, its largest magnitude over 448), then one
 * cuBLASLt FP8 x FP8 GEMM with float32 accumulation scales output (i, j) by row i's scale and weight row j's
 * ({@link CublasLtGemms#launchFp8}, outer-vector scaling). One row runs the GEMV that quantizes its row in each
 * CTA instead ({@code df_gemv_fp8x8_mma_m1}: the same codes and scale, e4m3 x e4m3 MMAs) where it fits ({@link
 * #gemvRuns}); the layer stack may hand that GEMV the norm in front and SwiGLU behind as well. Scales are per
 * token, so a token's numbers do not depend on what else is in its step (up to the order of float32 additions);
 * the CPU backend quantizes the same rows the same way ({@code Fp8E4m3.quantizeRows}).
 *
 * <p>From 2 to {@value Skinny2GemmFp8Params#MAX_M} rows our codes-by-codes skinny GEMM ({@code
 * df_skinny2_gemm_fp8x8_wgmma_m*}, "ours:skinny2-fp8x8-wgmma", on sm_90a; {@code df_skinny2_gemm_fp8x8_m*},
 * "ours:skinny2-fp8x8", elsewhere: {@link Skinny2Gemms#codesOnWgmma}) is a candidate beside cuBLASLt ({@link
 * #SETTING_ENV}), and at one row beside the GEMV: {@link #tune} times both on the model's projections at the decode
 * batch buckets and keeps the faster per shape (a row count between buckets takes the next bucket's choice; where
 * ours wins one row, the norm or SwiGLU in front writes that row's codes, as at several rows). A cuBLASLt launch
 * takes the algorithm the load timed fastest among its heuristic's first few for that row count, else the first.
 * The codes and scales of one projection's input live in a buffer of this class, reused by the next projection
 * (one stream).
 */
final class Fp8Activations implements AutoCloseable {

  private final KernelModule kernels;
  private final CudaStream stream;
  private final CublasLtGemms lt;
  private final Fp8Gemv gemv;
  private final DeviceBuffer buffer; // (rows, maxK) codes, then (rows) float32 scales
  private final long scalesAt;
  private final int rows;
  private final int maxK;
  private final Skinny2Gemms skinny2; // null: no tensor-map shim, cuBLASLt only
  private final DeviceBuffer splitScratch; // the codes GEMM's split-K partials, then its counters (zero)
  private final long countersAt;
  /** Per (n, k): for each timed row count, whether ours:skinny2-fp8x8 won; absent: cuBLASLt. */
  private final Map<Weight, TreeMap<Integer, Boolean>> ours = new HashMap<>();
  /** Per (n, k): for each timed row count, the index of cuBLASLt's fastest algorithm (absent: its first). */
  private final Map<Weight, TreeMap<Integer, Integer>> algorithms = new HashMap<>();
  private final Map<Shape, Skinny2GemmPlan> plans; // the codes GEMM's plans, made at open
  private String mode = "timed"; // the setting tune read: timed (the choice in `ours`), ours or cublaslt

  /**
   * Environment variable choosing between ours:skinny2-fp8x8 and cuBLASLt from 2 to 64 rows (and the GEMV at one):
   * {@code timed} (unset: the default, the faster per shape, timed at load), {@code ours} (wherever it runs, one
   * row included) or {@code cublaslt} (the GEMV at one row).
   */
  static final String SETTING_ENV = "DECODEFLEET_GEMM_FP8X8";
  /** The FP8 decode sites whose one row the GEMV may fuse SwiGLU into, and whose x that SwiGLU writes. */
  private static final String GATE_UP_SITE = "gate_up" + GemmTuning.FP8;
  private static final String DOWN_SITE = "down" + GemmTuning.FP8;

  /** The setting's value, normalised: timed, ours or cublaslt; anything else is refused in one line. */
  static String setting(String value) {
    String v = value == null || value.isBlank() ? "timed" : value.strip().toLowerCase(Locale.ROOT);
    if (!v.equals("timed") && !v.equals("ours") && !v.equals("cublaslt")) {
      throw new IllegalArgumentException(SETTING_ENV + " must be timed, ours or cublaslt (was '" + value + "')");
    }
    return v;
  }

  private record Weight(int n, int k) {}

  private record Shape(int m, int n, int k) {}

  private Fp8Activations(KernelModule kernels, CudaStream stream, CublasLtGemms lt, Fp8Gemv gemv, DeviceBuffer buffer,
      int rows, int maxK, Skinny2Gemms skinny2, DeviceBuffer splitScratch, long countersAt,
      Map<Shape, Skinny2GemmPlan> plans) {
    this.kernels = kernels;
    this.stream = stream;
    this.lt = lt;
    this.gemv = gemv;
    this.buffer = buffer;
    this.rows = rows;
    this.maxK = maxK;
    this.scalesAt = buffer.address((long) rows * maxK);
    this.skinny2 = skinny2;
    this.splitScratch = splitScratch;
    this.countersAt = countersAt;
    this.plans = plans;
  }

  /**
   * The FP8 x FP8 projections of a model of up to {@code rows} tokens a step, or a clear refusal: they need
   * cuBLASLt ({@code lt} null: not loaded here, or {@code --gemm ours}) and its FP8 GEMM on this device
   * (FP8 tensor cores, CUDA 12.9's outer-vector scales), checked on the model's qkv shape.
   */
  static Fp8Activations open(CudaContext ctx, KernelModule kernels, CudaStream stream, ModelConfig c, int rows,
      CublasLtGemms lt, Fp8Gemv gemv) {
    String gpu = ctx.gpu().label();
    if (lt == null) {
      throw new IllegalStateException("quantization fp8-dynamic on " + gpu + " runs its FP8 x FP8 GEMMs on cuBLASLt,"
          + " which this engine does not use here (" + CublasLtGemms.describe() + "; or --gemm ours)");
    }
    int maxK = Math.max(c.hiddenSize(), Math.max(c.qSize(), c.isMoe() ? 0 : c.intermediateSize()));
    int qkvWidth = c.qSize() + 2 * c.kvSize();
    if (lt.fp8Algorithms(new GemmShape(1, qkvWidth, c.hiddenSize(), qkvWidth, false)) == 0) {
      throw new IllegalStateException("quantization fp8-dynamic: " + CublasLtGemms.describe() + " has no FP8 x FP8"
          + " GEMM with per-row scales on " + gpu + " (it needs FP8 tensor cores, sm_89 and later, and cuBLASLt"
          + " 12.9 or later)");
    }
    DeviceBuffer buffer = ctx.allocate((long) rows * maxK + 4L * rows);
    if (!Skinny2Gemms.unavailabilityCause().isEmpty()) {
      return new Fp8Activations(kernels, stream, lt, gemv, buffer, rows, maxK, null, null, 0L, Map.of());
    }
    // Every codes plan of the model's projections, and the split-K scratch they need: float32 partials, then int32
    // counters.
    Skinny2Gemms skinny2 = new Skinny2Gemms(kernels, stream);
    Map<Shape, Skinny2GemmPlan> plans = new HashMap<>();
    int h = c.hiddenSize();
    int[][] nk = {{qkvWidth, h}, {h, c.qSize()}, {2 * c.intermediateSize(), h}, {h, c.intermediateSize()}};
    long floats = 0;
    long ints = 0;
    for (int m = 1; m <= Math.min(rows, Skinny2GemmFp8Params.MAX_M); m++) {
      for (int[] s : nk) {
        if (!Skinny2GemmFp8Params.supports(m, s[1])) continue;
        Skinny2GemmPlan p = Skinny2GemmFp8Params.planCodes(m, s[0], s[1], kernels.slots(skinny2.codesKernel(m)));
        plans.put(new Shape(m, s[0], s[1]), p);
        floats = Math.max(floats, p.workspaceFloats());
        ints = Math.max(ints, p.counterCount());
      }
    }
    DeviceBuffer scratch = ctx.allocate(4L * (floats + Math.max(1, ints)));
    scratch.fill32(0);
    return new Fp8Activations(kernels, stream, lt, gemv, buffer, rows, maxK, skinny2, scratch,
        scratch.address(4L * floats), plans);
  }

  /**
   * Times ours:skinny2-fp8x8 against cuBLASLt's FP8 GEMM (both after the same quantization) on each FP8 site at
   * its row counts from 2 to {@value Skinny2GemmFp8Params#MAX_M}, and against the GEMV at one row, on up to {@value
   * GemmTuning#TIMED_LAYERS} layers' weights in turn in a CUDA graph ({@link GemmTuning#graphUs}), and keeps the
   * faster per shape. cuBLASLt's side is the fastest of the first {@value GemmTuner#CUBLASLT_CANDIDATES} algorithms
   * of its heuristic for the shape, at every row count from 2 (past 64 rows too, where it runs alone); ours' is the
   * fastest of its planner's split count and fewer ({@link Skinny2GemmPlan#withFewerSplits}), and runs with it. One
   * row of gate_up is timed as the step runs it: the GEMV with SwiGLU behind where it makes it, ours followed by the
   * SwiGLU launch it then needs. The sites' inputs are filled with noise first; the caller poisons them afterwards.
   *
   * @return one line: how many shapes each took, or why ours was not a candidate
   */
  String tune(List<GemmTuning.Site> sites) {
    if (skinny2 == null) return "fp8-dynamic: ours:skinny2-fp8x8 is not a candidate: " + Skinny2Gemms.unavailabilityCause();
    mode = setting(System.getenv(SETTING_ENV));
    if (!mode.equals("timed")) {
      return "fp8-dynamic: " + (mode.equals("ours") ? skinny2.codesName() + " runs 1-" : "cuBLASLt runs 2-")
          + Skinny2GemmFp8Params.MAX_M + " rows (" + SETTING_ENV + "=" + mode + ")";
    }
    int won = 0;
    int timed = 0;
    int ltTimed = 0;
    int ltOther = 0;
    int splitsTimed = 0;
    int splitsOther = 0;
    StringBuilder detail = new StringBuilder();
    StringBuilder oneRow = new StringBuilder();
    // gate_up's one row as the step runs it: the GEMV makes SwiGLU behind into the activation (down's x), while
    // after ours a SwiGLU launch makes it (and down's codes); down's x is where both write it.
    long act = sites.stream().filter(s -> s.name().equals(DOWN_SITE)).mapToLong(GemmTuning.Site::x).findFirst()
        .orElse(0L);
    for (GemmTuning.Site site : sites) {
      if (!site.fp8()) continue;
      int n = site.shape().n();
      int k = site.shape().k();
      int layers = Math.min(site.weights().length, GemmTuning.TIMED_LAYERS);
      for (int m : site.rows()) {
        Shape key = new Shape(m, n, k);
        boolean oursRuns = plans.containsKey(key) && codesRun(m, k, site.weights()[0]);
        // One row: ours against the GEMV that quantizes its row itself, where both run; else ours against cuBLASLt.
        boolean gemvRow = !site.shape().outFloat() && gemvRuns(m, n, k, site.x(), site.weights()[0]);
        if (m == 1 && !(oursRuns && gemvRow)) continue;
        GemmTuning.noise(kernels, stream, site.x(), (long) m * k);
        double other;
        boolean swiglu = m == 1 && act != 0 && site.name().equals(GATE_UP_SITE)
            && gemv.swigluBehind(GemmChoice.Kernel.GEMV_FP8X8_MMA, n, k);
        if (m == 1) {
          other = GemmTuning.graphUs(kernels, stream, layers, m, l -> gemv.project(swiglu ? act : site.y(),
              swiglu ? n / 2 : site.shape().stride(), site.x(), null, swiglu, site.weights()[l], site.scales()[l], n,
              k, GemmChoice.Kernel.GEMV_FP8X8_MMA));
        } else {
          GemmShape shape = new GemmShape(m, n, k, site.shape().stride(), site.shape().outFloat());
          int count = Math.min(lt.fp8Algorithms(shape), GemmTuner.CUBLASLT_CANDIDATES);
          Fastest<Integer> best = fastest(IntStream.range(0, count).boxed().toList(), a -> GemmTuning.graphUs(
              kernels, stream, layers, m, l -> {
                quantize(site.x(), m, k);
                lt.launchFp8(shape, a, site.y(), buffer.address(), scalesAt, site.weights()[l], site.scales()[l]);
              }));
          other = best.us();
          int algorithm = best.candidate() == null ? 0 : best.candidate();
          algorithms.computeIfAbsent(new Weight(n, k), w -> new TreeMap<>()).put(m, algorithm);
          ltTimed++;
          if (algorithm != 0) ltOther++;
        }
        if (!oursRuns) continue;
        // Ours at the planner's split count and at fewer (down to unsplit), the fastest kept: the planner balances
        // chunks a CTA as if every CTA streamed at the same rate, and each split adds a partial tile and its sum.
        Skinny2GemmPlan planned = plans.get(key);
        List<Skinny2GemmPlan> candidates = new ArrayList<>(List.of(planned));
        candidates.addAll(planned.withFewerSplits(kernels.slots(skinny2.codesKernel(m))));
        Fastest<Skinny2GemmPlan> fastest = fastest(candidates, plan -> GemmTuning.graphUs(kernels, stream, layers, m,
            l -> {
              quantize(site.x(), m, k);
              launchOurs(plan, site.y(), site.shape().stride(), site.weights()[l], site.scales()[l],
                  site.shape().outFloat());
              if (swiglu) swiglu(act, site.y(), n / 2);
            }));
        plans.put(key, fastest.candidate());
        splitsTimed++;
        if (fastest.candidate().splits() != planned.splits()) splitsOther++;
        double oursUs = fastest.us();
        boolean oursWins = oursUs < other;
        ours.computeIfAbsent(new Weight(n, k), w -> new TreeMap<>()).put(m, oursWins);
        timed++;
        if (oursWins) won++;
        if (m == 1) {
          oneRow.append(String.format(" %s %.1f/%.1f µs", site.name(), oursUs, other));
        } else if (m == Math.min(rows, Skinny2GemmFp8Params.MAX_M)) {
          detail.append(String.format(" %s %.1f/%.1f µs", site.name(), oursUs, other));
        }
      }
    }
    return "fp8-dynamic: " + skinny2.codesName() + " chosen over cuBLASLt (one row: the GEMV) at " + won + " of "
        + timed + " shapes of 1-" + Skinny2GemmFp8Params.MAX_M + " rows"
        + (detail.length() == 0 ? "" : " (widest, ours/cuBLASLt:" + detail + ")")
        + (oneRow.length() == 0 ? "" : " (one row, ours/GEMV:" + oneRow + ")")
        + "; cuBLASLt's fastest of its first " + GemmTuner.CUBLASLT_CANDIDATES + " algorithms was not its first at "
        + ltOther + " of " + ltTimed + " shapes, ours' fastest split count not the planner's at " + splitsOther
        + " of " + splitsTimed;
  }

  /** The candidate that timed fastest (null where there was none) and its µs (infinite then). */
  private record Fastest<T>(T candidate, double us) {}

  private static <T> Fastest<T> fastest(List<T> candidates, ToDoubleFunction<T> micros) {
    Fastest<T> best = new Fastest<>(null, Double.POSITIVE_INFINITY);
    for (T c : candidates) {
      double us = micros.applyAsDouble(c);
      if (us < best.us()) best = new Fastest<>(c, us);
    }
    return best;
  }

  /**
   * The cuBLASLt algorithm (index in its heuristic's list for the shape) the load timed fastest for exactly m rows of
   * this projection; 0, the heuristic's first, for a row count it did not time.
   */
  private int algorithm(int m, int n, int k) {
    TreeMap<Integer, Integer> byRows = algorithms.get(new Weight(n, k));
    Integer a = byRows == null ? null : byRows.get(m);
    return a == null ? 0 : a;
  }

  /** Whether the codes GEMM takes m rows of depth k over the codes w (x's codes live in this class's buffer). */
  private boolean codesRun(int m, int k, long w) {
    return skinny2 != null && Skinny2GemmFp8Params.supports(m, k) && Skinny2Gemms.aligned(buffer.address(), w);
  }

  /**
   * Whether ours runs a projection of m rows of the model: pinned by the setting, else the choice timed at the
   * smallest timed row count >= m (one row: only where one row was timed, against the GEMV).
   */
  boolean oursChosen(int m, int n, int k, long w) {
    if (!codesRun(m, k, w) || !plans.containsKey(new Shape(m, n, k)) || mode.equals("cublaslt")) {
      return false;
    }
    if (mode.equals("ours")) return true;
    TreeMap<Integer, Boolean> byRows = ours.get(new Weight(n, k));
    Map.Entry<Integer, Boolean> at = byRows == null ? null : byRows.ceilingEntry(m);
    return at != null && (m > 1 || at.getKey() == 1) && at.getValue();
  }

  /**
   * Whether a projection of {@code m} rows, {@code n} output rows and depth {@code k} over x and the codes w runs
   * the one-row GEMV that quantizes its row itself (one row, the tensor-core GEMV's shapes, 16-byte aligned).
   */
  static boolean gemvRuns(int m, int n, int k, long x, long w) {
    return Fp8Gemv.mmaRuns(true, m, n, k, Skinny2Gemms.aligned(x, w));
  }

  /**
   * out (m, n), rows {@code stride} apart, bf16 or float32 = quantize(x) · wᵀ, x (m, k) bf16 contiguous, w (n, k)
   * e4m3 codes with (n) float32 row scales at {@code wScales}.
   */
  void project(long out, int stride, long x, long w, long wScales, int m, int n, int k, boolean outFloat) {
    if (!outFloat && gemvChosen(m, n, k, x, w)) { // the GEMV writes bf16 only
      gemv.project(out, stride, x, null, false, w, wScales, n, k, GemmChoice.Kernel.GEMV_FP8X8_MMA);
      return;
    }
    checkFits(m, k);
    quantize(x, m, k);
    gemm(oursChosen(m, n, k, w), out, stride, w, wScales, m, n, k, outFloat);
  }

  /** One row's SwiGLU of gate_up's output {@code y} (gate then up, {@code inter} each) into act and its codes. */
  private void swiglu(long act, long y, int inter) {
    SwiGluParams p = new SwiGluParams(act, y, y + 2L * inter, 1, inter, 2 * inter, inter).withCodes(buffer.address(),
        scalesAt);
    kernels.launch(Kernel.SWIGLU, p.launch(), p, stream);
  }

  /** x's m rows of k (bf16, contiguous) quantized per row into {@link #codes} and {@link #scales}. */
  private void quantize(long x, int m, int k) {
    Fp8QuantizeRowsParams q = new Fp8QuantizeRowsParams(buffer.address(), scalesAt, x, m, k, k);
    kernels.launch(Kernel.FP8_QUANTIZE_ROWS, q.launch(), q, stream);
  }

  /**
   * Whether m rows of depth k for the projection to n over the codes w may come quantized from the kernel in front
   * ({@link #codes}, {@link #scales}: the norm before qkv and gate_up, SwiGLU before down write them) for {@link
   * #projectCodes}: several rows within this model's sizes, or one row where ours runs it (not the GEMV).
   */
  boolean takesCodes(int m, int n, int k, long w) {
    return m >= 1 && m <= rows && k <= maxK && k % 16 == 0 && (m >= 2 || oursChosen(m, n, k, w));
  }

  /** Whether one row of this projection runs the GEMV that quantizes its row itself (not ours on the codes). */
  boolean gemvChosen(int m, int n, int k, long x, long w) {
    return gemvRuns(m, n, k, x, w) && !oursChosen(m, n, k, w);
  }

  /** Where the kernel in front writes x's codes for {@link #projectCodes}: (m, k) e4m3, rows k apart. */
  long codes() {
    return buffer.address();
  }

  /** Where the kernel in front writes x's row scales for {@link #projectCodes}: (m) float32. */
  long scales() {
    return scalesAt;
  }

  /** {@link #project} of rows the kernel in front already quantized into {@link #codes} and {@link #scales}. */
  void projectCodes(long out, int stride, long w, long wScales, int m, int n, int k, boolean outFloat) {
    checkFits(m, k);
    gemm(oursChosen(m, n, k, w), out, stride, w, wScales, m, n, k, outFloat);
  }

  private void checkFits(int m, int k) {
    if (m > rows || k > maxK) {
      throw new IllegalArgumentException("an FP8 projection of " + m + " rows of " + k + " exceeds the " + rows
          + " x " + maxK + " this model's steps were sized for");
    }
  }

  /** The GEMM of the quantized rows on ours:skinny2-fp8x8 ({@code codes}) or cuBLASLt. */
  private void gemm(boolean codes, long out, int stride, long w, long wScales, int m, int n, int k, boolean outFloat) {
    if (codes) {
      // planned at open, its split count timed by tune (oursChosen, tune: shapes it holds)
      launchOurs(plans.get(new Shape(m, n, k)), out, stride, w, wScales, outFloat);
    } else {
      lt.launchFp8(new GemmShape(m, n, k, stride, outFloat), algorithm(m, n, k), out, buffer.address(), scalesAt, w,
          wScales);
    }
  }

  /** Ours on the quantized rows in this class's buffer, as {@code plan} cuts the work. */
  private void launchOurs(Skinny2GemmPlan plan, long out, int stride, long w, long wScales, boolean outFloat) {
    skinny2.launchCodes(plan, out, buffer.address(), scalesAt, w, wScales, splitScratch.address(), countersAt, stride,
        outFloat);
  }

  @Override
  public void close() {
    buffer.close();
    if (splitScratch != null) splitScratch.close();
  }
}
