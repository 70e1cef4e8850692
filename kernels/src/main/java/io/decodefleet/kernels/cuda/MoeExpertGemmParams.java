package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code MoeExpertGemmParams} in moe.cu: the grouped expert GEMMs over tokens in expert
 * order. {@link Kernel#MOE_EXPERTS_GATE_UP}: {@code out = silu(x·gateᵀ) * (x·upᵀ)} with x's rows
 * gathered through {@code tokenOf}, each expert's weights its {@code n} gate rows then its {@code n}
 * up rows; {@link Kernel#MOE_EXPERTS_DOWN}: {@code out = x·downᵀ}, x in expert order.
 *
 * <p>The grid covers every expert (its y) and every output tile (x), whatever the step routed: a
 * CTA whose expert took no token exits before reading a weight, so the launch is fixed at capture
 * and reads only the experts with tokens. With the permutation's list of the experts that kept a
 * row ({@link #withActive}, the CUDA-core kernels), the grid's y shrinks to at most rows × k, the
 * most experts a step can reach, and row y runs the y-th listed expert: Qwen3-30B-A3B at batch 1
 * launches 8 rows of CTAs instead of 128.
 *
 * @param out (rows * k, n) bf16 in expert order
 * @param x gate_up: (tokens, xStride) bf16; down: (rows * k, xStride) bf16 in expert order
 * @param w (numExperts, 2n or n, k) bf16
 * @param offsets (numExperts + 1) int32, from the permutation
 * @param tokenOf (rows * k) int32 for gate_up; 0 for down
 * @param active the permutation's (numExperts + 1) int32 list of experts with rows ({@link
 *     MoePermuteParams#active}), read by the CUDA-core kernels; 0: grid row y is expert y
 * @param n output columns (gate_up: the expert's intermediate width)
 * @param k reduction length, a multiple of 8
 */
public record MoeExpertGemmParams(long out, long x, long w, long offsets, long tokenOf, long active, int n, int k,
    int xStride, int numExperts) implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(MoeExpertGemmParams.class);
  /** Weight rows each warp streams (gate_up: 2 output columns x gate and up; down: 4 columns). */
  static final int WEIGHT_ROWS_PER_WARP = 4;

  public MoeExpertGemmParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(x, "x");
    ParamChecks.pointer(w, "w");
    ParamChecks.pointer(offsets, "offsets");
    ParamChecks.positive(n, "n");
    ParamChecks.positive(k, "k");
    ParamChecks.multipleOf(k, 8, "k");
    ParamChecks.multipleOf(xStride, 8, "xStride");
    if (xStride < k) throw new IllegalArgumentException("xStride (" + xStride + ") must be >= k (" + k + ")");
    // An expert-parallel rank's share of the experts: one expert a rank when the group is as wide as the layer.
    if (numExperts < 1 || numExperts > MoeRouteParams.MAX_EXPERTS) {
      throw new IllegalArgumentException("numExperts must be in 1.." + MoeRouteParams.MAX_EXPERTS + " but is "
          + numExperts);
    }
  }

  /** The gate_up launch: {@code tokenOf} required. */
  public static MoeExpertGemmParams gateUp(long act, long x, long w, long offsets, long tokenOf, int inter, int hidden,
      int xStride, int numExperts) {
    ParamChecks.pointer(tokenOf, "tokenOf");
    return new MoeExpertGemmParams(act, x, w, offsets, tokenOf, 0, inter, hidden, xStride, numExperts);
  }

  /** The down launch over {@code act} (rows * k, inter) in expert order. */
  public static MoeExpertGemmParams down(long y, long act, long w, long offsets, int hidden, int inter,
      int numExperts) {
    return new MoeExpertGemmParams(y, act, w, offsets, 0, 0, hidden, inter, inter, numExperts);
  }

  /**
   * These params with the permutation's list of experts that kept a row, {@code active} (of the
   * same {@code numExperts}: one device's whole layer, whose offsets start at expert 0).
   */
  public MoeExpertGemmParams withActive(long active) {
    ParamChecks.pointer(active, "active");
    return new MoeExpertGemmParams(out, x, w, offsets, tokenOf, active, n, k, xStride, numExperts);
  }

  /** Output columns one CTA of {@code kernel} computes. */
  public static int columnsPerCta(Kernel kernel) {
    return switch (kernel) {
      case MOE_EXPERTS_GATE_UP -> kernel.threads() / 32 * WEIGHT_ROWS_PER_WARP / 2;
      case MOE_EXPERTS_DOWN -> kernel.threads() / 32 * WEIGHT_ROWS_PER_WARP;
      case MOE_EXPERTS_GATE_UP_TC -> TC_TILE / 2; // the B tile holds a gate row and an up row per column
      case MOE_EXPERTS_DOWN_TC -> TC_TILE;
      default -> throw new IllegalArgumentException(kernel + " is not a grouped expert GEMM");
    };
  }

  /** Rows and columns of a tensor-core CTA's tile (gemm.cu's 128 x 128). */
  static final int TC_TILE = 128;

  /** Launched rows from which the tensor-core kernels run: each expert's rows fill their M tiles. */
  public static final int TENSOR_CORE_MIN_ROWS = 128;

  /**
   * Mean routed rows per expert (rows × k / experts) from which the tensor-core kernels run below
   * {@link #TENSOR_CORE_MIN_ROWS}: the CUDA-core kernels walk an expert's rows 8 at a time and re-read its
   * weights for each group, so with a few experts (Mixtral's 8) they fall far behind one tensor-core
   * pass over the weights (H200, h 4096, inter 14336, 64 tokens: 4284 µs on CUDA cores, where the
   * tensor-core kernels took 1277 µs at 256 tokens, the same one M tile an expert).
   */
  public static final int TENSOR_CORE_MIN_ROWS_PER_EXPERT = 8;

  /** Whether a step of {@code rows} launched rows, each to {@code k} of {@code experts}, runs on tensor cores. */
  public static boolean tensorCores(int rows, int k, int experts) {
    return rows >= TENSOR_CORE_MIN_ROWS || (long) rows * k >= (long) TENSOR_CORE_MIN_ROWS_PER_EXPERT * experts;
  }

  /** The gate_up kernel for a step of {@code rows} launched rows, each routed to {@code k} of {@code experts}. */
  public static Kernel gateUpKernel(int rows, int k, int experts) {
    return tensorCores(rows, k, experts) ? Kernel.MOE_EXPERTS_GATE_UP_TC : Kernel.MOE_EXPERTS_GATE_UP;
  }

  /** The down kernel for a step of {@code rows} launched rows, each routed to {@code k} of {@code experts}. */
  public static Kernel downKernel(int rows, int k, int experts) {
    return tensorCores(rows, k, experts) ? Kernel.MOE_EXPERTS_DOWN_TC : Kernel.MOE_EXPERTS_DOWN;
  }

  /**
   * Every tile of every expert, for a step of {@code rows} launched rows: (output tiles, experts) for
   * the CUDA-core kernels, which walk an expert's rows 8 at a time; (output tiles, ceil(rows / 128),
   * experts) for the tensor-core ones, as if every row went to each expert (a token takes an expert
   * once). CTAs past their expert's rows exit before any load.
   */
  public LaunchShape launch(Kernel kernel, int rows) {
    return launch(kernel, rows, numExperts);
  }

  /**
   * As {@link #launch(Kernel, int)} for a step whose tokens each take {@code topK} experts: with the
   * list of experts that kept a row, a CUDA-core kernel's grid has min(numExperts, rows × topK) rows
   * of CTAs, the most experts the step can reach (rows past the list's length exit at once).
   */
  public LaunchShape launch(Kernel kernel, int rows, int topK) {
    ParamChecks.positive(topK, "topK");
    LaunchShape full = launchAll(kernel, rows);
    if (active == 0 || kernel == Kernel.MOE_EXPERTS_GATE_UP_TC || kernel == Kernel.MOE_EXPERTS_DOWN_TC) {
      return full;
    }
    int reach = (int) Math.max(1, Math.min(numExperts, (long) rows * topK));
    return new LaunchShape(full.gridX(), reach, 1, full.threads(), full.sharedBytes());
  }

  private LaunchShape launchAll(Kernel kernel, int rows) {
    int cols = columnsPerCta(kernel);
    boolean gated = kernel == Kernel.MOE_EXPERTS_GATE_UP || kernel == Kernel.MOE_EXPERTS_GATE_UP_TC;
    if (gated && tokenOf == 0) {
      throw new IllegalArgumentException("the gate_up experts gather x through tokenOf, which is null");
    }
    ParamChecks.nonNegative(rows, "rows");
    int tiles = (n + cols - 1) / cols;
    if (kernel == Kernel.MOE_EXPERTS_GATE_UP || kernel == Kernel.MOE_EXPERTS_DOWN) {
      return new LaunchShape(tiles, numExperts, 1, kernel.threads(), 0);
    }
    return new LaunchShape(tiles, (rows + TC_TILE - 1) / TC_TILE, numExperts, kernel.threads(), kernel.sharedBytes());
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
