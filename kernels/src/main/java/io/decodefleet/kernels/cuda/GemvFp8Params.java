package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code GemvFp8Params} in gemv_fp8.cu: the FP8 GEMV of one decode row, {@code out = (x ·
 * e4m3(w)ᵀ) * scale[row]}, a warp per weight row (no split of k, no partials). The kernels around a
 * projection in a layer may run inside it, each with the same float32 operations and bf16 roundings as
 * the kernel it replaces (so the same numbers): the fused residual add and RMSNorm in front, as the CTAs
 * stage the row ({@link #withNorm}), and SwiGLU behind, over a gate_up projection's rows ({@link
 * #swigluOut}).
 *
 * @param out (1, outStride) bf16, or float32 when {@code outFloat} is 1; with SwiGLU behind (1, n / 2) bf16
 * @param x (1, k) bf16: the row, or the delta added to the residual stream where {@code normWeight} is set
 * @param residualOut norm in front: (1, k) bf16, where the residual stream after the add goes (not {@code
 *     residual}: other CTAs may still read it); else 0
 * @param residual norm in front: (1, k) bf16, the residual stream; else 0
 * @param normWeight norm in front: (k) bf16 RMSNorm weight (the row is {@code rmsnorm(residual + x)}, as the
 *     norm kernel makes it); 0: no norm
 * @param w (n, k) e4m3 codes, 16-byte aligned
 * @param scale (n) float32
 * @param k a multiple of 16, at most {@link #MAX_K} (a multiple of 512, so the shared memory fits)
 * @param earlyWeights 1: the codes are resident, so each warp loads its first batch before it waits for
 *     the previous launch ({@link SkinnyGemmParams#earlyWeights()})
 * @param eps norm in front: RMSNorm's epsilon; else 0
 * @param swigluOut 1: SwiGLU behind: rows [0, n / 2) are gate, [n / 2, n) up, and out[j] is {@code silu(g_j) *
 *     u_j} of the products rounded to bf16, as the SwiGLU kernel computes it (n even, bf16 out)
 * @param taskWarps the tensor-core variant (gemv_fp8_mma.cu): warps that share a task of 8 rows, each a k / taskWarps
 *     slice (1, 2, 4 or 8; {@link #plan} sets it); 0 for the warp-a-row kernel
 * @param bf16Weights 1: w is (n, k) bf16 and there are no scales ({@code scale} 0): only the tensor-core kernel
 *     over bf16 weights ({@link Kernel#GEMV_BF16_MMA_M1}) takes it ({@link #residentBf16})
 * @param xCodes 1 (fp8-dynamic): the row (normed, where the norm is in front) is quantized to e4m3 per token in
 *     each CTA as df_fp8_quantize_rows does, and the tensor-core kernel {@link Kernel#GEMV_FP8X8_MMA_M1}
 *     multiplies codes by codes, the product scaled by x's scale and the row's ({@link #withXCodes})
 */
public record GemvFp8Params(
    long out,
    long x,
    long residualOut,
    long residual,
    long normWeight,
    long w,
    long scale,
    int n,
    int k,
    int outStride,
    int outFloat,
    int earlyWeights,
    float eps,
    int swigluOut,
    int taskWarps,
    int bf16Weights,
    int xCodes)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(GemvFp8Params.class);

  /** The deepest row: x as float32 in at most 64 KiB of shared memory (kGemvFp8MaxK). */
  public static final int MAX_K = 16384;

  /** Weight rows one CTA's warps take at a time (256 threads). */
  static final int ROWS_PER_CTA = 8;

  /** The tensor-core variant: rows of a task, warps of a CTA, and the depth k must be a multiple of. */
  static final int MMA_TASK_ROWS = 8;
  static final int MMA_WARPS = 8;
  public static final int MMA_K_MULTIPLE = 512;
  /** Over bf16 weights a chunk is 32 weights, so every warp's slice is whole chunks where k is a multiple of 256. */
  public static final int MMA_BF16_K_MULTIPLE = 256;

  public GemvFp8Params {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(x, "x");
    ParamChecks.pointer(w, "w");
    ParamChecks.flag(bf16Weights, "bf16Weights");
    ParamChecks.flag(xCodes, "xCodes");
    if (xCodes == 1 && bf16Weights == 1) throw new IllegalArgumentException("xCodes takes FP8 weights, not bf16");
    if (bf16Weights == 0) {
      ParamChecks.pointer(scale, "scale");
    } else if (scale != 0) {
      throw new IllegalArgumentException("bf16 weights have no row scales: scale must be 0");
    }
    ParamChecks.positive(n, "n");
    ParamChecks.positive(k, "k");
    ParamChecks.multipleOf(k, 16, "k");
    ParamChecks.atMost(k, MAX_K, "k");
    ParamChecks.flag(outFloat, "outFloat");
    ParamChecks.flag(earlyWeights, "earlyWeights");
    ParamChecks.flag(swigluOut, "swigluOut");
    if (taskWarps != 0 && taskWarps != 1 && taskWarps != 2 && taskWarps != 4 && taskWarps != 8) {
      throw new IllegalArgumentException("taskWarps must be 0, 1, 2, 4 or 8 but is " + taskWarps);
    }
    if (normWeight != 0) {
      ParamChecks.pointer(residual, "residual");
      ParamChecks.pointer(residualOut, "residualOut");
      if (residualOut == residual) {
        throw new IllegalArgumentException("residualOut must not be residual (other CTAs may still read it)");
      }
      if (!(eps > 0f)) throw new IllegalArgumentException("eps must be positive but is " + eps);
    } else if (residual != 0 || residualOut != 0 || eps != 0f) {
      throw new IllegalArgumentException("residual, residualOut and eps are for a norm in front (normWeight 0)");
    }
    int columns = n;
    if (swigluOut == 1) {
      if (n % 2 != 0) throw new IllegalArgumentException("SwiGLU behind takes gate and up rows: n must be even, not " + n);
      if (outFloat != 0) throw new IllegalArgumentException("SwiGLU behind writes bf16: outFloat must be 0");
      columns = n / 2;
    }
    if (outStride < columns) {
      throw new IllegalArgumentException("outStride (" + outStride + ") must be >= " + columns);
    }
    if (bf16Weights == 1 && !mmaFitsBf16(columns, k)) {
      throw new IllegalArgumentException("the tensor-core GEMV over bf16 weights takes k a multiple of "
          + MMA_BF16_K_MULTIPLE + " and " + MMA_TASK_ROWS + "-row tasks (k " + k + ", " + columns + " task rows)");
    }
    if ((taskWarps != 0 || xCodes == 1) && bf16Weights == 0 && !mmaFits(columns, k)) {
      throw new IllegalArgumentException("the tensor-core GEMV takes k a multiple of " + MMA_K_MULTIPLE + " and "
          + MMA_TASK_ROWS + "-row tasks (k " + k + ", " + columns + " task rows)");
    }
    if (((w | x | residual | residualOut | normWeight) & 15) != 0) {
      throw new IllegalArgumentException("x, residual, residualOut, normWeight and w must be 16-byte aligned (x " + x
          + ", residual " + residual + ", residualOut " + residualOut + ", normWeight " + normWeight + ", w " + w + ")");
    }
  }

  /** Whether one row of depth {@code k} can run here (k a multiple of 16, at most {@link #MAX_K}). */
  public static boolean supports(int m, int k) {
    return m == 1 && k > 0 && k % 16 == 0 && k <= MAX_K;
  }

  /** One row, resident codes (their first batch loaded before the wait), bf16 or float32 out. */
  public static GemvFp8Params resident(long out, long x, long w, long scale, int n, int k, int outStride,
      boolean outFloat) {
    return new GemvFp8Params(out, x, 0L, 0L, 0L, w, scale, n, k, outStride, outFloat ? 1 : 0, 1, 0f, 0, 0, 0, 0);
  }

  /**
   * This launch with the fused residual add and RMSNorm in front: x is the delta, the row {@code r =
   * bf16(residual + x)} (written to {@code residualOut}), then {@code bf16(r / rms(r) * normWeight)}, exactly as
   * the norm kernel makes it ({@code k} is the hidden size).
   */
  public GemvFp8Params withNorm(long residual, long residualOut, long normWeight, float eps) {
    ParamChecks.pointer(normWeight, "normWeight");
    return new GemvFp8Params(out, x, residualOut, residual, normWeight, w, scale, n, k, outStride, outFloat,
        earlyWeights, eps, swigluOut, taskWarps, bf16Weights, xCodes);
  }

  /**
   * This launch under fp8-dynamic: the row quantized to e4m3 per token in the CTA and multiplied code by code
   * ({@link Kernel#GEMV_FP8X8_MMA_M1}; the shape must fit the tensor-core kernel, {@link #mmaFits}).
   */
  public GemvFp8Params withXCodes() {
    return new GemvFp8Params(out, x, residualOut, residual, normWeight, w, scale, n, k, outStride, outFloat,
        earlyWeights, eps, swigluOut, taskWarps, bf16Weights, 1);
  }

  /**
   * One row of a gate_up projection with SwiGLU behind (resident codes): rows [0, n / 2) are gate, [n / 2, n)
   * up, and out (1, n / 2) bf16 gets {@code silu(gate) * up} of the products rounded to bf16.
   */
  public static GemvFp8Params swigluOut(long out, long x, long w, long scale, int n, int k, int outStride) {
    return new GemvFp8Params(out, x, 0L, 0L, 0L, w, scale, n, k, outStride, 0, 1, 0f, 1, 0, 0, 0);
  }

  /**
   * Whether the tensor-core variant takes a projection of {@code taskRows} output rows (n, or n / 2 with SwiGLU
   * behind) and depth {@code k}: whole 8-row tasks and k a multiple of {@value #MMA_K_MULTIPLE} (every warp's
   * slice whole 64-code chunks).
   */
  public static boolean mmaFits(int taskRows, int k) {
    return fits(taskRows, k, MMA_K_MULTIPLE);
  }

  /** As {@link #mmaFits} for the tensor-core kernel over bf16 weights: k a multiple of {@value #MMA_BF16_K_MULTIPLE}. */
  public static boolean mmaFitsBf16(int taskRows, int k) {
    return fits(taskRows, k, MMA_BF16_K_MULTIPLE);
  }

  private static boolean fits(int taskRows, int k, int kMultiple) {
    return taskRows > 0 && taskRows % MMA_TASK_ROWS == 0 && k > 0 && k % kMultiple == 0 && k <= MAX_K;
  }

  /**
   * One row over resident bf16 weights w (n, k) (the tensor-core kernel over bf16 weights; no row scales), bf16 or
   * float32 out; {@link #withNorm} and SwiGLU behind ({@code swiglu}) as over codes.
   */
  public static GemvFp8Params residentBf16(long out, long x, long w, int n, int k, int outStride, boolean outFloat,
      boolean swiglu) {
    return new GemvFp8Params(out, x, 0L, 0L, 0L, w, 0L, n, k, outStride, outFloat ? 1 : 0, 1, 0f, swiglu ? 1 : 0, 0, 1,
        0);
  }

  /** Rows of output: n, or n / 2 with SwiGLU behind. */
  int taskRows() {
    return swigluOut == 1 ? n / 2 : n;
  }

  /**
   * A launch: the kernel, its grid and block, and the parameters it takes.
   *
   * @param kernel {@link Kernel#GEMV_FP8_M1} or {@link Kernel#GEMV_FP8_MMA_M1}
   */
  public record Launch(Kernel kernel, LaunchShape shape, GemvFp8Params params) {}

  /** CTAs the GPU holds at once of a kernel at a dynamic shared memory (the driver's occupancy). */
  @FunctionalInterface
  public interface Slots {
    int of(Kernel kernel, int sharedBytes);
  }

  /**
   * How this product runs: on the tensor cores ({@link Kernel#GEMV_FP8_MMA_M1}) where {@code mma} is asked and
   * the shape fits ({@link #mmaFits}), else a warp a row ({@link #launch}). The tensor-core launch fills the
   * slots (or gives every task its warps, where fewer CTAs do) and takes the warps a task W of {@link
   * #balancedTaskWarps}: the CTAs walk the tasks grid-stride, in rounds.
   *
   * @param sms the GPU's SMs (the slots are spread over them)
   */
  public Launch plan(boolean mma, Slots slots, int sms) {
    return plan(mma, slots, sms, 0);
  }

  /**
   * As {@link #plan(boolean, Slots, int)}, with W = {@code taskWarps} on the tensor cores where it is 1, 2, 4 or
   * 8 (0: {@link #balancedTaskWarps}), to measure one plan against another.
   */
  public Launch plan(boolean mma, Slots slots, int sms, int taskWarps) {
    if (taskWarps != 0 && taskWarps != 1 && taskWarps != 2 && taskWarps != 4 && taskWarps != 8) {
      throw new IllegalArgumentException("taskWarps must be 0 (planned), 1, 2, 4 or 8, not " + taskWarps);
    }
    if (bf16Weights == 1) return mmaLaunch(Kernel.GEMV_BF16_MMA_M1, slots, sms, taskWarps); // the one over bf16
    if (xCodes == 1) return mmaLaunch(Kernel.GEMV_FP8X8_MMA_M1, slots, sms, taskWarps); // codes by codes
    if (!mma || !mmaFits(taskRows(), k)) {
      GemvFp8Params plain = withTaskWarps(0);
      return new Launch(Kernel.GEMV_FP8_M1, plain.launch(slots.of(Kernel.GEMV_FP8_M1, sharedBytes(k))), plain);
    }
    return mmaLaunch(Kernel.GEMV_FP8_MMA_M1, slots, sms, taskWarps);
  }

  private Launch mmaLaunch(Kernel kernel, Slots slots, int sms, int taskWarps) {
    int shared = kernel == Kernel.GEMV_FP8X8_MMA_M1 ? 3 * k : mmaSharedBytes(k); // the row as bf16, then its codes
    int available = slots.of(kernel, shared);
    if (available < 1) throw new IllegalArgumentException("slots must be positive but is " + available);
    long tasks = taskRows() / MMA_TASK_ROWS;
    int warps = taskWarps != 0 ? taskWarps : balancedTaskWarps(tasks, available, sms);
    int ctas = (int) Math.min(available, (tasks * warps + MMA_WARPS - 1) / MMA_WARPS);
    return new Launch(kernel, new LaunchShape(ctas, 1, 1, kernel.threads(), shared), withTaskWarps(warps));
  }

  /**
   * The warps a task W (1, 2, 4 or 8) that loads the busiest SM least: a CTA of 8 warps takes 8 / W tasks a
   * round, the CTAs ({@code slots} of them at most, spread evenly over {@code sms}) take the tasks grid-stride,
   * and in the last, part round the busy CTAs are the first ones, one an SM before a second. The busiest SM's
   * work, in task slices of 1 / W of a task's bytes: the full rounds' (every CTA of the SM, 8 slices each) plus
   * the last round's. Ties go to fewer rounds (fewer barriers, longer slices), then to more warps. So one round
   * is not kept at any price: Llama-3-8B's FP8 gate_up with SwiGLU behind (1792 tasks, 528 slots) fits one round
   * at W = 2 with four CTAs on some SMs and three on others, and takes W = 4 in two rounds, the second spread
   * over 368 CTAs; its bf16 gate_up (3584 tasks, 396 slots) takes W = 2, where W = 1 leaves a second round of 52
   * busy CTAs.
   */
  static int balancedTaskWarps(long tasks, int slots, int sms) {
    if (sms < 1) throw new IllegalArgumentException("sms must be positive but is " + sms);
    long perSm = Math.max(1, slots / sms);
    int best = 1;
    long bestCost = Long.MAX_VALUE, bestRounds = Long.MAX_VALUE;
    for (int w : new int[] {1, 2, 4, 8}) {
      long groups = MMA_WARPS / w, perRound = (long) slots * groups;
      long full = tasks / perRound, rest = tasks - full * perRound;
      long busyCtas = (rest + groups - 1) / groups;
      long slices = full * perSm * MMA_WARPS + (busyCtas + sms - 1) / sms * MMA_WARPS;
      long cost = slices * (MMA_WARPS / w); // in 1/8 task bytes
      long rounds = full + (rest > 0 ? 1 : 0);
      if (cost < bestCost || cost == bestCost && rounds <= bestRounds) {
        best = w;
        bestCost = cost;
        bestRounds = rounds;
      }
    }
    return best;
  }

  private GemvFp8Params withTaskWarps(int warps) {
    return warps == taskWarps ? this : new GemvFp8Params(out, x, residualOut, residual, normWeight, w, scale, n, k,
        outStride, outFloat, earlyWeights, eps, swigluOut, warps, bf16Weights, xCodes);
  }

  /** Shared memory of a tensor-core launch of depth {@code k}: x as bf16. */
  public static int mmaSharedBytes(int k) {
    return k * 2;
  }

  /**
   * The launch: a warp per row (or pair of rows with SwiGLU behind), 8 a CTA, but no more CTAs than {@code
   * slots} (CTAs the GPU holds at once at this launch's shared memory: {@code KernelModule.slots(kernel,
   * sharedBytes(k))}): the warps then walk the rows grid-stride.
   * Shared memory: x as float32, in whole groups of 32 vectors of 16 (gemv_fp8_x_at stores a group quarter
   * by quarter, so a part group takes a whole group's place): k rounded up to 512, 4 bytes each.
   */
  public LaunchShape launch(int slots) {
    if (slots < 1) throw new IllegalArgumentException("slots must be positive but is " + slots);
    int tasks = taskRows(); // with SwiGLU behind a warp takes a (gate, up) pair of rows
    int ctas = Math.min((tasks + ROWS_PER_CTA - 1) / ROWS_PER_CTA, slots);
    return new LaunchShape(ctas, 1, 1, Kernel.GEMV_FP8_M1.threads(), sharedBytes(k));
  }

  /** Shared memory of a launch of depth {@code k}: x as float32 in whole 512-deep groups. */
  public static int sharedBytes(int k) {
    return (k + 511) / 512 * 512 * 4;
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
