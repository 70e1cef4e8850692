package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.gemm.CublasLtGemms;
import io.decodefleet.agent.backend.cuda.gemm.GemmChoice;
import io.decodefleet.agent.backend.cuda.gemm.GemmChoices;
import io.decodefleet.agent.backend.cuda.gemm.GemmShape;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.backend.cuda.gemm.Skinny2Gemms;
import io.decodefleet.agent.backend.cuda.gemm.WgmmaGemms;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.kernels.cuda.Fp8DequantParams;
import io.decodefleet.kernels.cuda.GemmParams;
import io.decodefleet.kernels.cuda.GemvFp8Params;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.Skinny2GemmFp8Params;
import io.decodefleet.kernels.cuda.Skinny2GemmPlan;
import io.decodefleet.kernels.cuda.SkinnyGemmFp8Params;
import io.decodefleet.kernels.cuda.SkinnyGemmParams;
import io.decodefleet.kernels.cuda.SkinnyGemmPlan;
import io.decodefleet.kernels.cuda.WgmmaGemmParams;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code out = x · wᵀ} for the model's projections. Each launch runs what the GEMM dispatch chose
 * for its shape ({@link GemmChoices}: the fastest of our skinny GEMMs, our tensor-core GEMM, our
 * wgmma GEMM where it runs and {@link WgmmaGemms#SETTING_ENV} enables it, and cuBLASLt's
 * algorithms, timed at model load); before a choice exists, or for a projection never
 * timed, our kernels run by row count: the skinny GEMM (weights streamed once, split-K when the row
 * tiles leave the GPU idle) for up to {@link SkinnyGemmPlan#MAX_M} rows of x, the tensor-core GEMM
 * above. Skinny plans are made once per shape and kept.
 *
 * <p>FP8 weights ({@link #projectFp8}): up to {@link #FP8_GEMM_MAX_ROWS} rows of x (every decode
 * step and graph bucket) run what the dispatch chose of our two FP8 decode GEMMs (timed at load
 * like the bf16 candidates): the FP8 skinny GEMM (skinny_gemm_fp8.cu: the bf16 skinny GEMM's plan,
 * tiles and split-K, one byte a weight widened in registers), or the FP8 second skinny GEMM
 * (skinny2_gemm_fp8.cu: tensor copies of e4m3 boxes, MMAs on the codes widened in registers; one
 * launch per 64 rows), a candidate where the tensor-map shim is loaded and {@link
 * GemmTuner#SKINNY2_FP8_SETTING_ENV} is on, and from {@link GemmTuner#WGMMA_MIN_ROWS} rows our wgmma
 * GEMM over FP8 weights where {@link GemmTuner#WGMMA_FP8_SETTING_ENV} is on; untimed, {@link #fp8Path}
 * picks by row count. Unless {@link GemmTuner#GEMV_FP8_SETTING_ENV} is off, our FP8 GEMV (gemv_fp8.cu, a
 * warp a weight row) is a candidate at one row too ({@link Fp8Gemv#runs}), with its tensor-core variant
 * (gemv_fp8_mma.cu, {@link Fp8Gemv#mmaRuns}) running it where it fits, or timed apart ({@link
 * GemmTuner#GEMV_FP8_MMA_SETTING_ENV}), and on sm_90 unless {@link
 * GemmTuner#SKINNY_FP8_WGMMA_SETTING_ENV} is off our FP8 skinny GEMM on wgmma from 33 rows ({@link
 * #skinnyFp8WgmmaRuns}). At one row of bf16 weights our bf16 GEMV on the tensor cores runs a layer's
 * projections where {@link GemmTuner#GEMV_BF16_SETTING_ENV} says so ({@link #gemvBf16Chosen}). More rows (prefill) run
 * that wgmma GEMM on the codes where it is on, else
 * widen the weight to bf16 into a scratch matrix first and run the bf16 dispatch on it, since there
 * the tensor cores, not the weight stream, set the time.
 */
final class Projections {

  /** (m, n, k) of one projection launch. */
  private record Shape(int m, int n, int k) {}

  private final KernelModule kernels;
  private final CudaStream stream;
  private final Map<Shape, SkinnyGemmPlan> plans = new HashMap<>();
  private final Map<Shape, Skinny2GemmPlan> plans2 = new HashMap<>();
  private final Map<Shape, Skinny2GemmPlan> plans2Fp8 = new HashMap<>();
  private long partials; // skinny GEMM float32 scratch
  private long counters; // skinny GEMM int32 counters, zero between launches
  private CublasLtGemms cublasLt; // null: cuBLASLt is not used
  private GemmChoices choices; // null: not tuned, ours by row count
  private final WgmmaGemms wgmma; // null: not a dispatch candidate here (device, shim or setting)
  private final WgmmaGemms wgmmaFp8; // null: FP8 projections do not run it here (device, shim or setting)
  private final Skinny2Gemms skinny2; // null: no tensor-map shim here (the setting is the tuner's)
  private final boolean skinny2Fp8; // FP8 projections of <= 64 rows may run the FP8 second skinny GEMM
  private final boolean gemvFp8; // FP8 projections of one row may run the FP8 GEMV
  private final GemmTuner.GemvMma gemvFp8Mma; // and how its tensor-core variant takes part
  private final GemmTuner.GemvBf16 gemvBf16; // how the bf16 GEMV takes part at one row
  private final Fp8Gemv gemv; // the GEMVs' launches, with what may run inside them
  private final boolean skinnyFp8Wgmma; // FP8 projections of 33+ rows may run the FP8 wgmma skinny GEMM

  /**
   * @param policy the {@code --gemm} setting: under {@link GemmTuner.Policy#SKINNY2} the FP8 second skinny
   *     GEMM is a candidate (and pinned) where the shim is loaded, whatever {@link
   *     GemmTuner#SKINNY2_FP8_SETTING_ENV} says
   */
  Projections(KernelModule kernels, CudaStream stream, GemmTuner.Policy policy) {
    this.kernels = kernels;
    this.stream = stream;
    boolean runs = WgmmaGemms.unavailabilityCause(kernels.context().gpu()).isEmpty();
    WgmmaGemms gemms = runs && (WgmmaGemms.inDispatch() || GemmTuner.wgmmaFp8InDispatch())
        ? new WgmmaGemms(kernels, stream) : null; // one tensor-map cache for both kernels
    this.wgmma = WgmmaGemms.inDispatch() ? gemms : null;
    this.wgmmaFp8 = GemmTuner.wgmmaFp8InDispatch() ? gemms : null;
    this.skinny2 = Skinny2Gemms.unavailabilityCause().isEmpty() ? new Skinny2Gemms(kernels, stream) : null;
    this.skinny2Fp8 = skinny2 != null && (policy == GemmTuner.Policy.SKINNY2 || GemmTuner.skinny2Fp8InDispatch());
    this.gemvFp8 = GemmTuner.gemvFp8InDispatch();
    this.gemvFp8Mma = gemvFp8 ? GemmTuner.gemvFp8Mma() : GemmTuner.GemvMma.OFF;
    this.gemvBf16 = GemmTuner.gemvBf16();
    this.gemv = new Fp8Gemv(kernels, stream, gemvFp8, gemvBf16);
    GpuInfo gpu = kernels.context().gpu();
    this.skinnyFp8Wgmma = GemmTuner.skinnyFp8WgmmaInDispatch()
        && WgmmaGemmParams.supports(gpu.computeMajor(), gpu.computeMinor());
  }

  /**
   * Whether an FP8 projection of {@code plan} on these operands runs the FP8 wgmma skinny GEMM: the setting
   * on and an sm_90 device ({@code skinnyFp8Wgmma}), an m64 plan with k a multiple of 16, x and the codes
   * 16-byte aligned.
   */
  static boolean skinnyFp8WgmmaRuns(boolean skinnyFp8Wgmma, SkinnyGemmPlan plan, boolean aligned) {
    return skinnyFp8Wgmma && aligned && SkinnyGemmFp8Params.wgmmaTakes(plan);
  }

  /** Whether the FP8 wgmma skinny GEMM may be a candidate here (sm_90, its setting on). */
  boolean skinnyFp8Wgmma() {
    return skinnyFp8Wgmma;
  }

  /** Whether our second skinny GEMM can run here (the tensor-map shim is loaded). */
  boolean skinny2() {
    return skinny2 != null;
  }

  /** Whether the dispatch may choose our wgmma GEMM on this device. */
  boolean wgmma() {
    return wgmma != null;
  }

  /** Whether FP8 projections may run our wgmma GEMM over FP8 weights on this device (sm_90, shim, setting on). */
  boolean wgmmaFp8() {
    return wgmmaFp8 != null;
  }

  /** Where the split-K scratch lives (in the workspace, sized by {@link #scratchFor}). */
  void useScratch(long partialsAddress, long countersAddress) {
    this.partials = partialsAddress;
    this.counters = countersAddress;
  }

  /** Rows of x up to which an FP8 projection runs the FP8 skinny GEMM: the skinny GEMM's own limit. */
  static final int FP8_GEMM_MAX_ROWS = SkinnyGemmPlan.MAX_M;

  /** How one FP8 projection runs. */
  enum Fp8Path {
    /** The FP8 second skinny GEMM (skinny2_gemm_fp8.cu). */
    SKINNY2_FP8,
    /** The FP8 skinny GEMM (skinny_gemm_fp8.cu). */
    SKINNY_FP8,
    /** Our wgmma GEMM over FP8 weights on the codes (prefill, where it is on). */
    WGMMA_FP8,
    /** The weight widened to bf16 in scratch, then the bf16 dispatch (prefill). */
    WIDEN_THEN_BF16
  }

  /**
   * The path of an FP8 prefill projection (past {@link #FP8_GEMM_MAX_ROWS} rows): our wgmma GEMM over
   * FP8 weights where it may run ({@code wgmmaFp8}), its depth a multiple of 16 and x and the codes
   * 16-byte aligned (its tensor maps' rules); else widening.
   */
  static Fp8Path fp8PrefillPath(int k, boolean wgmmaFp8, boolean aligned) {
    return wgmmaFp8 && aligned && k % 16 == 0 ? Fp8Path.WGMMA_FP8 : Fp8Path.WIDEN_THEN_BF16;
  }

  /**
   * The path of an FP8 projection of {@code m} rows and depth {@code k}: past {@link
   * #FP8_GEMM_MAX_ROWS} rows (prefill) widening; else the second skinny GEMM where it may run ({@code
   * skinny2Fp8}: shim loaded and setting on), takes the depth (a multiple of 16) and x and the codes
   * are 16-byte aligned, in launches of up to 64 rows; else the skinny GEMM.
   */
  static Fp8Path fp8Path(int m, int k, boolean skinny2Fp8, boolean aligned) {
    if (m > FP8_GEMM_MAX_ROWS) return Fp8Path.WIDEN_THEN_BF16;
    return skinny2Fp8 && aligned && Skinny2GemmFp8Params.supports(1, k) ? Fp8Path.SKINNY2_FP8 : Fp8Path.SKINNY_FP8;
  }

  /**
   * {@code out = x · (e4m3(w) * scale)ᵀ}: FP8 codes {@code w} (n, k) with a float32 scale per
   * output row at {@code scales}; {@code scratch} holds (n, k) bf16 for the prefill path.
   */
  void projectFp8(long out, int outStride, long x, long w, long scales, long scratch, int m, int n, int k,
      boolean outFloat) {
    if (m <= FP8_GEMM_MAX_ROWS) {
      GemmShape shape = new GemmShape(m, n, k, outStride, outFloat);
      runFp8(choices == null ? null : choices.choiceFor(shape).orElse(null), shape, out, x, w, scales);
      return;
    }
    if (fp8PrefillPath(k, wgmmaFp8 != null, WgmmaGemms.aligned(x, w)) == Fp8Path.WGMMA_FP8) {
      wgmmaFp8.launchFp8(new GemmShape(m, n, k, outStride, outFloat), out, x, w, scales, true);
      return;
    }
    Fp8DequantParams d = new Fp8DequantParams(scratch, w, scales, n, k, 1);
    kernels.launch(Kernel.FP8_DEQUANT, d.launch(), d, stream);
    project(out, outStride, x, scratch, m, n, k, outFloat, false);
  }

  /**
   * Which FP8 GEMV a one-row FP8 projection of {@code n} rows, depth {@code k}, into a bf16 row of {@code
   * outStride} runs ({@link GemmChoice.Kernel#GEMV_FP8} or {@link GemmChoice.Kernel#GEMV_FP8_MMA}): the one the
   * dispatch chose for the shape, where it may run on x and w here; null where none. Only then may {@link
   * Fp8Gemv#project} take a norm in front or SwiGLU behind.
   */
  GemmChoice.Kernel gemvFp8Chosen(int n, int k, int outStride, long x, long w) {
    if (choices == null) return null;
    GemmChoice choice = choices.choiceFor(new GemmShape(1, n, k, outStride, false)).orElse(null);
    return Fp8Gemv.chosenFp8(choice, gemvFp8, gemvFp8Mma, 1, n, k, Skinny2Gemms.aligned(x, w));
  }

  /**
   * Whether a layer's one-row bf16 projection of {@code n} rows, depth {@code k}, into a row of {@code outStride}
   * runs the bf16 GEMV on x and w ({@link Fp8Gemv#chosenBf16}); only then may {@link Fp8Gemv#project} take a norm
   * in front or SwiGLU behind.
   */
  boolean gemvBf16Chosen(int n, int k, int outStride, boolean outFloat, long x, long w) {
    GemmShape shape = new GemmShape(1, n, k, outStride, outFloat);
    GemmChoice choice = choices == null ? null : choices.choiceFor(shape).orElse(null);
    return Fp8Gemv.chosenBf16(gemvBf16, choice, n, k, Skinny2Gemms.aligned(x, w));
  }

  /** How the bf16 GEMV takes part here. */
  GemmTuner.GemvBf16 gemvBf16() {
    return gemvBf16;
  }

  /** The GEMVs' launches. */
  Fp8Gemv gemv() {
    return gemv;
  }

  /** Whether the FP8 GEMV may be a candidate here (its setting on). */
  boolean gemvFp8() {
    return gemvFp8;
  }

  /** How its tensor-core variant takes part here (OFF where the GEMV is off). */
  GemmTuner.GemvMma gemvFp8Mma() {
    return gemvFp8Mma;
  }

  /** Whether the FP8 second skinny GEMM is a candidate here (shim loaded, setting on). */
  boolean skinny2Fp8() {
    return skinny2Fp8;
  }

  /**
   * The FP8 decode GEMM a launch of {@code m} rows and depth {@code k} runs, given the dispatch's
   * choice for its shape ({@code chosen}; null when untimed): the first FP8 skinny GEMM where that was
   * chosen, else {@link #fp8Path}'s (the second where it may run, else the first). A choice of another
   * kind (a bf16 kernel) counts as none.
   */
  static GemmChoice.Kernel fp8Kernel(GemmChoice chosen, int m, int k, boolean skinny2Fp8, boolean aligned) {
    return fp8Kernel(chosen, m, k, skinny2Fp8, false, aligned);
  }

  /**
   * As {@link #fp8Kernel(GemmChoice, int, int, boolean, boolean)}, where a choice of our wgmma GEMM over
   * FP8 weights runs it if it may run here ({@code wgmmaFp8}) on this depth and these operands;
   * elsewhere the choice counts as none.
   */
  static GemmChoice.Kernel fp8Kernel(GemmChoice chosen, int m, int k, boolean skinny2Fp8, boolean wgmmaFp8,
      boolean aligned) {
    if (chosen != null && chosen.kernel() == GemmChoice.Kernel.WGMMA_FP8
        && fp8PrefillPath(k, wgmmaFp8, aligned) == Fp8Path.WGMMA_FP8) {
      return GemmChoice.Kernel.WGMMA_FP8;
    }
    if (chosen != null && chosen.kernel() == GemmChoice.Kernel.SKINNY_FP8) return GemmChoice.Kernel.SKINNY_FP8;
    return fp8Path(m, k, skinny2Fp8, aligned) == Fp8Path.SKINNY2_FP8 ? GemmChoice.Kernel.SKINNY2_FP8
        : GemmChoice.Kernel.SKINNY_FP8;
  }

  /**
   * Runs one FP8 decode launch of codes {@code w} with row scales {@code scales}: {@link #fp8Kernel} of
   * {@code choice} (null: untimed).
   */
  void runFp8(GemmChoice choice, GemmShape s, long out, long x, long w, long scales) {
    if (s.m() > FP8_GEMM_MAX_ROWS) {
      throw new IllegalArgumentException("an FP8 decode GEMM takes at most " + FP8_GEMM_MAX_ROWS + " rows, not " + s);
    }
    boolean aligned = Skinny2Gemms.aligned(x, w);
    GemmChoice.Kernel gemvKernel = Fp8Gemv.chosenFp8(choice, gemvFp8, gemvFp8Mma, s.m(), s.n(), s.k(), aligned);
    if (gemvKernel != null) {
      gemv.launch(GemvFp8Params.resident(out, x, w, scales, s.n(), s.k(), s.stride(), s.outFloat()),
          gemvKernel == GemmChoice.Kernel.GEMV_FP8_MMA);
      return;
    }
    GemmChoice.Kernel kernel = fp8Kernel(choice, s.m(), s.k(), skinny2Fp8, wgmmaFp8 != null, aligned);
    if (kernel == GemmChoice.Kernel.WGMMA_FP8) {
      wgmmaFp8.launchFp8(s, out, x, w, scales, true);
      return;
    }
    if (kernel == GemmChoice.Kernel.SKINNY2_FP8) {
      // Past 64 rows, one launch per 64 rows of x (each streams the codes again: at 128 and 256 rows
      // that is the bf16 weight's bytes once or twice, where the tensor pipe, not the stream, is the limit).
      skinny2.launchFp8Rows(rows -> plan2Fp8(rows, s.n(), s.k()), out, x, w, scales, partials, counters, s.m(),
          s.k(), s.stride(), s.outFloat());
      return;
    }
    SkinnyGemmPlan plan = plan(s.m(), s.n(), s.k());
    if (choice != null && choice.kernel() == GemmChoice.Kernel.SKINNY_FP8_WGMMA
        && skinnyFp8WgmmaRuns(skinnyFp8Wgmma, plan, aligned)) {
      SkinnyGemmFp8Params p = SkinnyGemmFp8Params.of(plan, out, x, w, scales, partials, counters, s.stride(),
          s.outFloat());
      kernels.launch(Kernel.SKINNY_GEMM_FP8_WGMMA, SkinnyGemmFp8Params.wgmmaLaunch(plan), p, stream);
      return;
    }
    SkinnyGemmFp8Params p = SkinnyGemmFp8Params.of(plan, out, x, w, scales, partials, counters, s.stride(),
        s.outFloat()).withEarlyWeights();
    kernels.launch(SkinnyGemmFp8Params.kernelFor(plan), SkinnyGemmFp8Params.launch(plan), p, stream);
  }

  void project(long out, int outStride, long x, long w, int m, int n, int k) {
    project(out, outStride, x, w, m, n, k, false);
  }

  /**
   * As {@link #project(long, int, long, long, int, int, int)}; float32 out when {@code outFloat}. {@code w}
   * is resident: no launch of the stream writes it.
   */
  void project(long out, int outStride, long x, long w, int m, int n, int k, boolean outFloat) {
    project(out, outStride, x, w, m, n, k, outFloat, true);
  }

  /** As above; {@code resident} false where {@code w} is what the previous launch wrote (a widened FP8 weight). */
  private void project(long out, int outStride, long x, long w, int m, int n, int k, boolean outFloat,
      boolean resident) {
    GemmShape shape = new GemmShape(m, n, k, outStride, outFloat);
    GemmChoice choice = choices == null ? null : choices.choiceFor(shape).orElse(null);
    if (choice == null || choice.kernel().fp8()) {
      choice = byRowCount(m);
    } else if (choice.kernel() == GemmChoice.Kernel.CUBLASLT && !choices.timed(shape)) {
      choice = GemmChoice.cublasLt(0, Double.NaN); // another row count: cuBLASLt's own first pick for it
    }
    run(choice, shape, out, x, w, resident);
  }

  /**
   * Runs {@code choice} on one launch (its algorithm as given); what it cannot run (cuBLASLt without
   * that algorithm for the shape, either skinny GEMM past its rows, the second one or the wgmma GEMM
   * where it cannot run or an operand is not 16-byte aligned) runs ours by row count (the wgmma GEMM's shapes on
   * the tensor-core GEMM).
   */
  void run(GemmChoice choice, GemmShape s, long out, long x, long w) {
    run(choice, s, out, x, w, true);
  }

  /**
   * As above; where {@code resident}, our skinny GEMM fetches the weight's first stages before it waits for
   * the previous launch (SkinnyGemmParams#earlyWeights).
   */
  private void run(GemmChoice choice, GemmShape s, long out, long x, long w, boolean resident) {
    GemmChoice.Kernel kernel = choice.kernel();
    if (kernel == GemmChoice.Kernel.GEMV_BF16_MMA && resident
        && Fp8Gemv.bf16Runs(s.m(), s.n(), s.k(), Skinny2Gemms.aligned(x, w))) {
      gemv.launch(GemvFp8Params.residentBf16(out, x, w, s.n(), s.k(), s.stride(), s.outFloat(), false), true);
      return;
    }
    if (kernel == GemmChoice.Kernel.CUBLASLT && cublasLt != null) {
      int algorithms = cublasLt.algorithms(s);
      if (choice.algorithm() < algorithms) {
        cublasLt.launch(s, choice.algorithm(), out, x, w);
        return;
      }
    }
    if (kernel == GemmChoice.Kernel.SKINNY2 && skinny2 != null && Skinny2GemmPlan.supports(s.m(), s.k())
        && Skinny2Gemms.aligned(x, w)) {
      skinny2.launch(plan2(s.m(), s.n(), s.k()), out, x, w, partials, counters, s.stride(), s.outFloat());
    } else if (kernel == GemmChoice.Kernel.WGMMA && wgmma != null && WgmmaGemms.aligned(x, w)) {
      wgmma.launch(s, out, x, w);
    } else if (kernel != GemmChoice.Kernel.TENSOR_CORE && kernel != GemmChoice.Kernel.WGMMA
        && s.m() <= SkinnyGemmPlan.MAX_M) {
      SkinnyGemmPlan plan = plan(s.m(), s.n(), s.k());
      SkinnyGemmParams p = SkinnyGemmParams.of(plan, out, x, w, partials, counters, s.stride(), s.outFloat());
      if (resident) p = p.withEarlyWeights();
      kernels.launch(plan.kernel(), plan.launch(), p, stream);
    } else {
      GemmParams p = new GemmParams(out, x, w, s.m(), s.n(), s.k(), s.stride(), s.outFloat() ? 1 : 0);
      kernels.launch(Kernel.GEMM, p.launch(), p, stream);
    }
  }

  private static GemmChoice byRowCount(int m) {
    return GemmChoice.ours(m <= SkinnyGemmPlan.MAX_M ? GemmChoice.Kernel.SKINNY : GemmChoice.Kernel.TENSOR_CORE,
        Double.NaN);
  }

  /** From now on each launch runs the choice for its shape; {@code cublasLt} may be null (ours only). */
  void useChoices(GemmChoices choices, CublasLtGemms cublasLt) {
    this.choices = choices;
    this.cublasLt = cublasLt;
  }

  /** cuBLASLt as the dispatch may use it; null when it does not. */
  CublasLtGemms cublasLt() {
    return cublasLt;
  }

  private SkinnyGemmPlan plan(int m, int n, int k) {
    return plans.computeIfAbsent(new Shape(m, n, k),
        s -> SkinnyGemmPlan.plan(m, n, k, kernels.slots(SkinnyGemmPlan.kernelFor(m))));
  }

  private Skinny2GemmPlan plan2(int m, int n, int k) {
    return plans2.computeIfAbsent(new Shape(m, n, k),
        s -> Skinny2GemmPlan.plan(m, n, k, kernels.slots(Skinny2GemmPlan.kernelFor(m))));
  }

  private Skinny2GemmPlan plan2Fp8(int m, int n, int k) {
    return plans2Fp8.computeIfAbsent(new Shape(m, n, k),
        s -> Skinny2GemmFp8Params.plan(m, n, k, kernels.slots(Skinny2GemmFp8Params.kernelFor(m))));
  }

  /**
   * The split-K scratch every projection of {@code config} at 1..{@code maxRows} rows may need, on
   * either skinny GEMM (they share it: launches on one stream, counters left zero by each):
   * {float32 partials, int32 counters}, the largest over all planned shapes.
   */
  long[] scratchFor(ModelConfig config, int maxRows, int maxLogitsRows) {
    int h = config.hiddenSize();
    int[][] nk = {
        {config.qSize() + 2 * config.kvSize(), h}, {h, config.qSize()}, {2 * config.intermediateSize(), h},
        {h, config.intermediateSize()}, {config.isMoe() ? config.moe().numExperts() : h, h}};
    long floats = 0;
    long ints = 0;
    for (int m = 1; m <= Math.min(maxRows, SkinnyGemmPlan.MAX_M); m++) {
      for (int[] s : nk) {
        SkinnyGemmPlan p = plan(m, s[0], s[1]);
        floats = Math.max(floats, p.workspaceFloats());
        ints = Math.max(ints, p.counterCount());
        if (m <= Skinny2GemmPlan.MAX_M && Skinny2GemmPlan.supports(m, s[1])) {
          Skinny2GemmPlan p2 = plan2(m, s[0], s[1]);
          floats = Math.max(floats, p2.workspaceFloats());
          ints = Math.max(ints, p2.counterCount());
        }
        if (skinny2Fp8 && Skinny2GemmFp8Params.supports(m, s[1])) { // FP8 weights' plans hold up to 64 x rows
          Skinny2GemmPlan p2 = plan2Fp8(m, s[0], s[1]);
          floats = Math.max(floats, p2.workspaceFloats());
          ints = Math.max(ints, p2.counterCount());
        }
      }
    }
    for (int m = 1; m <= Math.min(maxLogitsRows, SkinnyGemmPlan.MAX_M); m++) {
      SkinnyGemmPlan p = plan(m, config.vocabSize(), h);
      floats = Math.max(floats, p.workspaceFloats());
      ints = Math.max(ints, p.counterCount());
      if (m <= Skinny2GemmPlan.MAX_M && Skinny2GemmPlan.supports(m, h)) {
        Skinny2GemmPlan p2 = plan2(m, config.vocabSize(), h);
        floats = Math.max(floats, p2.workspaceFloats());
        ints = Math.max(ints, p2.counterCount());
      }
    }
    return new long[] {floats, ints};
  }
}
