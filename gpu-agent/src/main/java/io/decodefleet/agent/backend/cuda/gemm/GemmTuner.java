package io.decodefleet.agent.backend.cuda.gemm;

import io.decodefleet.kernels.cuda.Skinny2GemmPlan;
import java.util.ArrayList;
import java.util.List;

/**
 * Chooses, for every projection at every timed row count, the fastest candidate: our kernels (the
 * skinny GEMM up to {@link #SKINNY_MAX_ROWS} rows, the second skinny GEMM up to {@link
 * #SKINNY2_MAX_ROWS}, the tensor-core GEMM from {@link
 * #TENSOR_CORE_MIN_ROWS} rows, the Hopper wgmma GEMM from {@link #WGMMA_MIN_ROWS} rows where it
 * runs and is enabled) and up to {@link #CUBLASLT_CANDIDATES} of cuBLASLt's heuristic algorithms; for
 * FP8 weights at decode row counts, our FP8 GEMMs ({@link #fp8Candidates}).
 * Timing is the caller's (device events at model load); this class only decides, so the rule is
 * one piece of code whatever measures it.
 */
public final class GemmTuner {

  /** Our skinny GEMM takes at most this many rows of x (its kernels' limit). */
  public static final int SKINNY_MAX_ROWS = 256;
  /** Our second skinny GEMM takes at most this many rows of x (its MMA tiles hold 16). */
  public static final int SKINNY2_MAX_ROWS = Skinny2GemmPlan.MAX_M;
  /** Below this many rows our tensor-core GEMM wastes most of its 64-row tiles: not a candidate. */
  public static final int TENSOR_CORE_MIN_ROWS = 16;
  /**
   * Below this many rows the wgmma GEMM's 128-row tiles are mostly zero-filled and its one CTA per
   * 256 columns leaves most SMs idle on the model's projections: not a candidate.
   */
  public static final int WGMMA_MIN_ROWS = 64;
  /** cuBLASLt algorithms timed per shape, from the top of its heuristic's list. */
  public static final int CUBLASLT_CANDIDATES = 4;

  /** Which implementations may be chosen (the {@code --gemm} setting). */
  public enum Policy {
    /** Time ours and cuBLASLt's, keep the fastest. */
    AUTO,
    /** Our kernels only (timed against each other where both apply). */
    OURS,
    /** cuBLASLt's first pick wherever it has one; ours where it has none. */
    CUBLASLT,
    /**
     * Our second skinny GEMM wherever it applies (up to {@link #SKINNY2_MAX_ROWS} rows; for FP8
     * weights its FP8 twin at every decode row count), our kernels elsewhere: pins it, to measure it
     * end to end and check it against the CPU backend.
     */
    SKINNY2;

    public static Policy parse(String text) {
      for (Policy p : values()) {
        if (p.name().equalsIgnoreCase(text)) return p;
      }
      throw new IllegalArgumentException("--gemm must be auto, ours, cublaslt or skinny2 (was '" + text + "')");
    }

    /** Whether cuBLASLt's algorithms may be chosen (then it is opened at model load). */
    public boolean usesCublasLt() {
      return this == AUTO || this == CUBLASLT;
    }

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Device time of one candidate on one shape, in microseconds (the median of timed repetitions). */
  @FunctionalInterface
  public interface Timing {
    double micros(GemmShape shape, GemmChoice candidate);
  }

  private GemmTuner() {}

  /**
   * "ours:skinny2" is a dispatch candidate up to {@link #SKINNY2_MAX_ROWS} rows unless this is
   * {@code off} ({@code 0}, {@code false}): on by default since its tensor-map version passed its
   * self-test family (SKINNY2_GEMM) on a GPU; timing picks it only where it measured fastest. {@code
   * --gemm skinny2} pins it regardless, as the self-test and {@code bench kernels} run it regardless.
   */
  public static final String SKINNY2_SETTING_ENV = "DECODEFLEET_GEMM_SKINNY2";

  /** Whether {@value #SKINNY2_SETTING_ENV} lets the dispatch choose "ours:skinny2" (default on). */
  public static boolean skinny2InDispatch() {
    return skinny2InDispatch(System.getenv(SKINNY2_SETTING_ENV));
  }

  /** Unset or anything but {@code off}, {@code 0} or {@code false} (any case, blanks around): on. */
  static boolean skinny2InDispatch(String value) {
    return WgmmaGemms.settingNotOff(value);
  }

  /**
   * {@code on}: the FP8 second skinny GEMM (skinny2_gemm_fp8.cu, launches of up to 64 rows) is a
   * dispatch candidate of FP8 decode projections (up to 256 rows) beside the first FP8 skinny GEMM,
   * timed at load like the bf16 candidates ({@link #fp8Candidates}). Off by default: its self-test
   * family (SKINNY2_GEMM_FP8) and parity pass on an H100 (2026-12-06); its speed on an H200 is not yet
   * measured. The self-test and {@code bench kernels} run it regardless.
   */
  public static final String SKINNY2_FP8_SETTING_ENV = "DECODEFLEET_GEMM_SKINNY2_FP8";

  /** Whether {@value #SKINNY2_FP8_SETTING_ENV} is on (default off). */
  public static boolean skinny2Fp8InDispatch() {
    return skinny2Fp8InDispatch(System.getenv(SKINNY2_FP8_SETTING_ENV));
  }

  /** {@code on}, {@code 1} or {@code true} (any case, blanks around): on; anything else, or unset: off. */
  static boolean skinny2Fp8InDispatch(String value) {
    return WgmmaGemms.settingOn(value);
  }

  /**
   * Unless {@code off}: our FP8 GEMV (gemv_fp8.cu: a warp a weight row, no split of k) is a candidate for
   * FP8 projections of one row, timed at load against the FP8 skinny GEMMs, where the depth is a multiple of
   * 16 up to 16384 and x and the codes are 16-byte aligned. On by default since its second version ran
   * faster than the FP8 skinny GEMM on three of Llama-3-8B's four projections on an H100 (2026-12-06,
   * docs/performance.md); {@code off} takes it out. {@code only}: at one row the FP8 GEMVs (this one and its
   * tensor-core variant) are the only candidates, timed against each other, to measure them end to end where the
   * load-time timing of a launch alone prefers a skinny GEMM (a GEMV's early weight loads overlap the kernel
   * before it in a step, which a launch timed alone cannot show).
   */
  public static final String GEMV_FP8_SETTING_ENV = "DECODEFLEET_GEMV_FP8";

  /** Whether {@value #GEMV_FP8_SETTING_ENV} says {@code only}. */
  public static boolean gemvFp8Only() {
    return gemvFp8Only(System.getenv(GEMV_FP8_SETTING_ENV));
  }

  static boolean gemvFp8Only(String value) {
    return io.decodefleet.agent.backend.cuda.driver.EnvSetting.says(value, "only");
  }

  /** {@code candidates} cut to the FP8 GEMVs among them where there are any ({@link #gemvFp8Only}); else as given. */
  public static List<GemmChoice> onlyGemvs(List<GemmChoice> candidates) {
    List<GemmChoice> gemvs = candidates.stream().filter(c -> c.kernel() == GemmChoice.Kernel.GEMV_FP8
        || c.kernel() == GemmChoice.Kernel.GEMV_FP8_MMA).toList();
    return gemvs.isEmpty() ? candidates : gemvs;
  }

  /** Whether {@value #GEMV_FP8_SETTING_ENV} leaves the FP8 GEMV in the dispatch (default on). */
  public static boolean gemvFp8InDispatch() {
    return gemvFp8InDispatch(System.getenv(GEMV_FP8_SETTING_ENV));
  }

  static boolean gemvFp8InDispatch(String value) {
    return io.decodefleet.agent.backend.cuda.driver.EnvSetting.notOff(value);
  }

  /**
   * Unless {@code off}: where the dispatch chose the FP8 GEMV for a one-row gate_up projection, the GEMV
   * computes SwiGLU of its gate and up rows as it stores them (a warp takes a row of each; the SwiGLU
   * kernel's float32 operations on the bf16 the projection would have stored, so the same activation) and
   * the SwiGLU launch goes; {@code off} keeps the two launches.
   */
  public static final String GEMV_FP8_SWIGLU_SETTING_ENV = "DECODEFLEET_GEMV_FP8_SWIGLU";

  /** Whether {@value #GEMV_FP8_SWIGLU_SETTING_ENV} leaves SwiGLU behind the FP8 GEMV (default on). */
  public static boolean gemvFp8SwigluOn() {
    return gemvFp8InDispatch(System.getenv(GEMV_FP8_SWIGLU_SETTING_ENV));
  }

  /**
   * Unless {@code off}: where the dispatch chose the FP8 GEMV for a one-row qkv or gate_up projection, the
   * GEMV makes the residual add and RMSNorm before it as it stages its row (the norm kernel's operations,
   * sum order and roundings, so the same row; the residual stream alternates between two one-row places)
   * and the norm launch goes; {@code off} keeps the norm launches.
   */
  public static final String GEMV_FP8_NORM_SETTING_ENV = "DECODEFLEET_GEMV_FP8_NORM";

  /** Whether {@value #GEMV_FP8_NORM_SETTING_ENV} leaves the norm in the FP8 GEMV (default on). */
  public static boolean gemvFp8NormOn() {
    return gemvFp8InDispatch(System.getenv(GEMV_FP8_NORM_SETTING_ENV));
  }

  /**
   * The FP8 GEMV's tensor-core variant (gemv_fp8_mma.cu: 8 rows a task, the codes widened into MMA fragments), for
   * projections with whole 8-row tasks and a depth that is a multiple of 512. {@code on} (the default): where the
   * dispatch chose the FP8 GEMV ("ours:gemv-fp8", timed on this variant where it fits), it runs on the tensor
   * cores. {@code both}: the variant is a candidate of its own ("ours:gemv-fp8-mma"), timed per shape beside the
   * warp-a-row GEMV. {@code off}: the warp-a-row GEMV everywhere. The default is what measured fastest in a step
   * (docs/performance.md): a launch timed alone does not show how much of a GEMV's early weight loads overlap the
   * launch before it, so per-shape timing may pick the slower one for the step.
   */
  public static final String GEMV_FP8_MMA_SETTING_ENV = "DECODEFLEET_GEMV_FP8_MMA";

  /** How the tensor-core FP8 GEMV takes part ({@value #GEMV_FP8_MMA_SETTING_ENV}). */
  public enum GemvMma {
    OFF, ON, BOTH;

    public static GemvMma parse(String value) {
      if (io.decodefleet.agent.backend.cuda.driver.EnvSetting.says(value, "both")) return BOTH;
      return gemvFp8InDispatch(value) ? ON : OFF;
    }
  }

  /** {@value #GEMV_FP8_MMA_SETTING_ENV} as read from the environment. */
  public static GemvMma gemvFp8Mma() {
    return GemvMma.parse(System.getenv(GEMV_FP8_MMA_SETTING_ENV));
  }

  /**
   * Our one-row GEMV over bf16 weights on the tensor cores (gemv_fp8_mma.cu's bf16 kernel, "ours:gemv-bf16-mma"),
   * for bf16 projections of one row with whole 8-row tasks, a depth that is a multiple of 256, x and the weight
   * 16-byte aligned. {@code on}: a layer's one-row projections run it wherever it fits, untimed, with the residual
   * add and RMSNorm in front of qkv and gate_up and SwiGLU behind gate_up as the FP8 GEMV makes them ({@value
   * #GEMV_FP8_NORM_SETTING_ENV}, {@value #GEMV_FP8_SWIGLU_SETTING_ENV}): timing a launch alone counts neither the
   * launches it saves nor its early weight loads under the launch before it. {@code timed}: a candidate of its own
   * beside cuBLASLt and our skinny GEMMs, where it runs only where it measured fastest (with the norm and SwiGLU
   * where it was chosen for qkv and gate_up). {@code off}: never. {@code on} is the default since parity with the
   * CPU backend passed on both decode paths (llama3-8b-2l and tiny-qwen3) and it took the batch-1 step of
   * llama3-8b from 1.27× to 1.17× its floor on an H100 (docs/performance.md, 2026-12-07).
   */
  public static final String GEMV_BF16_SETTING_ENV = "DECODEFLEET_GEMV_BF16";

  /** How the bf16 GEMV takes part ({@value #GEMV_BF16_SETTING_ENV}). */
  public enum GemvBf16 {
    OFF, ON, TIMED;

    /** {@code timed}: TIMED; {@code off}, {@code 0}, {@code false}: OFF; anything else, or unset: ON. */
    public static GemvBf16 parse(String value) {
      if (io.decodefleet.agent.backend.cuda.driver.EnvSetting.says(value, "timed")) return TIMED;
      return io.decodefleet.agent.backend.cuda.driver.EnvSetting.notOff(value) ? ON : OFF;
    }
  }

  /** {@value #GEMV_BF16_SETTING_ENV} as read from the environment. */
  public static GemvBf16 gemvBf16() {
    return GemvBf16.parse(System.getenv(GEMV_BF16_SETTING_ENV));
  }

  /**
   * Unless {@code off}: our FP8 decode GEMM on wgmma (skinny_gemm_fp8_wgmma.cu, "ours:skinny-fp8-wgmma": the
   * FP8 skinny GEMM's m64 plan with the codes as the MMA's A operand, from registers) is a candidate for FP8
   * projections of {@value #SKINNY_FP8_WGMMA_MIN_ROWS} rows or more on an sm_90 device, timed at load against
   * the FP8 skinny GEMMs. On by default since its self-test family passed on an H100 and it ran faster than
   * the m64 FP8 skinny GEMM on every Llama-3-8B projection there (2026-12-06, docs/performance.md).
   */
  public static final String SKINNY_FP8_WGMMA_SETTING_ENV = "DECODEFLEET_GEMM_SKINNY_FP8_WGMMA";
  /** Fewest rows the FP8 wgmma skinny GEMM takes: the m64 plan's (below, the skinny plan tiles x by 8-32). */
  public static final int SKINNY_FP8_WGMMA_MIN_ROWS = 33;

  /** Whether {@value #SKINNY_FP8_WGMMA_SETTING_ENV} leaves it in the dispatch (default on). */
  public static boolean skinnyFp8WgmmaInDispatch() {
    return skinnyFp8WgmmaInDispatch(System.getenv(SKINNY_FP8_WGMMA_SETTING_ENV));
  }

  static boolean skinnyFp8WgmmaInDispatch(String value) {
    return io.decodefleet.agent.backend.cuda.driver.EnvSetting.notOff(value);
  }

  /**
   * {@code on}: our Hopper GEMM over FP8 weights (wgmma_gemm_fp8.cu, "ours:wgmma-fp8") runs an FP8
   * model's prefill projections on the codes (in place of widening each weight into a bf16 scratch
   * for the bf16 dispatch) and is a candidate of its decode projections from {@link #WGMMA_MIN_ROWS}
   * rows, where it runs (sm_90, tensor-map shim). Off by default until its self-test family
   * (WGMMA_GEMM_FP8) has passed on a GPU. The self-test and {@code bench kernels} run it regardless.
   */
  public static final String WGMMA_FP8_SETTING_ENV = "DECODEFLEET_GEMM_WGMMA_FP8";

  /** Whether {@value #WGMMA_FP8_SETTING_ENV} is on (default off). */
  public static boolean wgmmaFp8InDispatch() {
    return WgmmaGemms.settingOn(System.getenv(WGMMA_FP8_SETTING_ENV));
  }

  /** As {@link #fp8Candidates(Policy, boolean, boolean, int)} without the wgmma FP8 GEMM. */
  public static List<GemmChoice> fp8Candidates(Policy policy, boolean skinny2Fp8) {
    return fp8Candidates(policy, skinny2Fp8, false, 1);
  }

  /**
   * The candidates of an FP8-weight decode projection of {@code rows} rows (up to {@link
   * #SKINNY_MAX_ROWS}): the FP8 skinny GEMM; the FP8 second skinny GEMM where it may run ({@code
   * skinny2Fp8}: shim loaded, setting on, its depth and alignment met), which {@link Policy#SKINNY2}
   * pins; and from {@link #WGMMA_MIN_ROWS} rows our wgmma GEMM over FP8 weights where it may run
   * ({@code wgmmaFp8}: sm_90, shim, {@value #WGMMA_FP8_SETTING_ENV} on). cuBLASLt has no GEMM of FP8
   * weights with bf16 activations, so under every policy these are ours, timed against each other.
   */
  public static List<GemmChoice> fp8Candidates(Policy policy, boolean skinny2Fp8, boolean wgmmaFp8, int rows) {
    return fp8Candidates(policy, skinny2Fp8, wgmmaFp8, false, false, rows);
  }

  /**
   * As {@link #fp8Candidates(Policy, boolean, boolean, int)}, with our FP8 GEMV at one row where it may run
   * ({@code gemvFp8}: {@value #GEMV_FP8_SETTING_ENV} not off, its depth and alignment met) and our FP8 wgmma
   * skinny GEMM from {@value #SKINNY_FP8_WGMMA_MIN_ROWS} rows where it may run ({@code skinnyFp8Wgmma}:
   * sm_90, {@value #SKINNY_FP8_WGMMA_SETTING_ENV} not off, its depth and alignment met).
   */
  public static List<GemmChoice> fp8Candidates(Policy policy, boolean skinny2Fp8, boolean wgmmaFp8, boolean gemvFp8,
      boolean skinnyFp8Wgmma, int rows) {
    return fp8Candidates(policy, skinny2Fp8, wgmmaFp8, gemvFp8, false, skinnyFp8Wgmma, rows);
  }

  /**
   * As {@link #fp8Candidates(Policy, boolean, boolean, boolean, boolean, int)}, with the FP8 GEMV's tensor-core
   * variant at one row where it may run ({@code gemvFp8Mma}: {@value #GEMV_FP8_MMA_SETTING_ENV} not off, whole
   * 8-row tasks, k a multiple of 512), timed beside the warp-a-row one.
   */
  public static List<GemmChoice> fp8Candidates(Policy policy, boolean skinny2Fp8, boolean wgmmaFp8, boolean gemvFp8,
      boolean gemvFp8Mma, boolean skinnyFp8Wgmma, int rows) {
    if (skinny2Fp8 && policy == Policy.SKINNY2) return List.of(GemmChoice.ours(GemmChoice.Kernel.SKINNY2_FP8, Double.NaN));
    List<GemmChoice> c = new ArrayList<>(6);
    if (gemvFp8 && rows == 1) c.add(GemmChoice.ours(GemmChoice.Kernel.GEMV_FP8, Double.NaN));
    if (gemvFp8Mma && rows == 1) c.add(GemmChoice.ours(GemmChoice.Kernel.GEMV_FP8_MMA, Double.NaN));
    c.add(GemmChoice.ours(GemmChoice.Kernel.SKINNY_FP8, Double.NaN));
    if (skinnyFp8Wgmma && rows >= SKINNY_FP8_WGMMA_MIN_ROWS) {
      c.add(GemmChoice.ours(GemmChoice.Kernel.SKINNY_FP8_WGMMA, Double.NaN));
    }
    if (skinny2Fp8) c.add(GemmChoice.ours(GemmChoice.Kernel.SKINNY2_FP8, Double.NaN));
    if (wgmmaFp8 && rows >= WGMMA_MIN_ROWS) c.add(GemmChoice.ours(GemmChoice.Kernel.WGMMA_FP8, Double.NaN));
    return c;
  }

  /** Our candidates for {@code rows} rows without the opt-in kernels: the skinny GEMM, the tensor-core GEMM, or both. */
  public static List<GemmChoice.Kernel> ourKernels(int rows) {
    return ourKernels(rows, false, false);
  }

  /**
   * Our candidates for {@code rows} rows: the skinny GEMM, the tensor-core GEMM, and the opt-in ones:
   * the second skinny GEMM up to {@link #SKINNY2_MAX_ROWS} rows when {@code skinny2}, the wgmma GEMM
   * from {@link #WGMMA_MIN_ROWS} when {@code wgmma} (an sm_90 device with the kernel enabled).
   */
  public static List<GemmChoice.Kernel> ourKernels(int rows, boolean wgmma, boolean skinny2) {
    List<GemmChoice.Kernel> ours = new ArrayList<>(4);
    if (rows <= SKINNY_MAX_ROWS) ours.add(GemmChoice.Kernel.SKINNY);
    if (skinny2 && rows <= SKINNY2_MAX_ROWS) ours.add(GemmChoice.Kernel.SKINNY2);
    if (rows >= TENSOR_CORE_MIN_ROWS) ours.add(GemmChoice.Kernel.TENSOR_CORE);
    if (wgmma && rows >= WGMMA_MIN_ROWS) ours.add(GemmChoice.Kernel.WGMMA);
    return ours;
  }

  /** {@link #candidates(int, int, Policy, boolean, boolean)} without the opt-in kernels. */
  public static List<GemmChoice> candidates(int rows, int cublasLtAlgorithms, Policy policy) {
    return candidates(rows, cublasLtAlgorithms, policy, false, false);
  }

  /**
   * The candidates of one shape under {@code policy}, given how many algorithms cuBLASLt offers for
   * it (0 where it is absent or has none) and whether the wgmma GEMM and the second skinny GEMM may
   * be chosen ({@link Policy#SKINNY2} pins the latter either way).
   */
  public static List<GemmChoice> candidates(int rows, int cublasLtAlgorithms, Policy policy, boolean wgmma,
      boolean skinny2) {
    return candidates(rows, cublasLtAlgorithms, policy, wgmma, skinny2, false);
  }

  /**
   * As {@link #candidates(int, int, Policy, boolean, boolean)}, with our bf16 GEMV at one row where it may run
   * ({@code gemvBf16}: {@value #GEMV_BF16_SETTING_ENV} timed, the shape and operands fit), under {@link
   * Policy#AUTO} and {@link Policy#OURS}.
   */
  public static List<GemmChoice> candidates(int rows, int cublasLtAlgorithms, Policy policy, boolean wgmma,
      boolean skinny2, boolean gemvBf16) {
    List<GemmChoice> c = new ArrayList<>();
    if (policy == Policy.CUBLASLT && cublasLtAlgorithms > 0) {
      c.add(GemmChoice.cublasLt(0, Double.NaN));
      return c;
    }
    if (policy == Policy.SKINNY2 && rows <= SKINNY2_MAX_ROWS) {
      c.add(GemmChoice.ours(GemmChoice.Kernel.SKINNY2, Double.NaN));
      return c;
    }
    if (gemvBf16 && rows == 1) c.add(GemmChoice.ours(GemmChoice.Kernel.GEMV_BF16_MMA, Double.NaN));
    for (GemmChoice.Kernel k : ourKernels(rows, wgmma, skinny2)) c.add(GemmChoice.ours(k, Double.NaN));
    if (policy == Policy.AUTO) {
      for (int i = 0; i < Math.min(cublasLtAlgorithms, CUBLASLT_CANDIDATES); i++) c.add(GemmChoice.cublasLt(i, Double.NaN));
    }
    return c;
  }

  /**
   * The fastest of {@code candidates} on {@code shape}, with its time. A single candidate is taken
   * without timing (its time stays NaN). Ties go to the earlier candidate (ours come first).
   */
  public static GemmChoice fastest(GemmShape shape, List<GemmChoice> candidates, Timing timing) {
    if (candidates.isEmpty()) {
      throw new IllegalArgumentException("no GEMM candidate for " + shape);
    }
    if (candidates.size() == 1) {
      return candidates.get(0);
    }
    GemmChoice best = null;
    for (GemmChoice c : candidates) {
      double us = timing.micros(shape, c);
      if (!(us > 0) || Double.isInfinite(us)) {
        throw new IllegalStateException("timing " + c.label() + " on " + shape + " gave " + us + " µs");
      }
      if (best == null || us < best.micros()) {
        best = new GemmChoice(c.kernel(), c.algorithm(), us);
      }
    }
    return best;
  }
}
