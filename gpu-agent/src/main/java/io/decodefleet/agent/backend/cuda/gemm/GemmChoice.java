package io.decodefleet.agent.backend.cuda.gemm;

/**
 * What runs one GEMM shape, and how long it took when it was chosen.
 *
 * @param kernel which implementation
 * @param algorithm for {@link Kernel#CUBLASLT}, the index of the algorithm among the plan's
 *     heuristic candidates (0 = cuBLASLt's own first pick); -1 for our kernels
 * @param micros median device time measured when choosing; NaN when the choice was not timed
 *     (forced by a setting, or the only candidate)
 */
public record GemmChoice(Kernel kernel, int algorithm, double micros) {

  /** The implementations a projection can run on. */
  public enum Kernel {
    /** Our memory-bound decode GEMM (rows of x ≤ 256, weights streamed once). */
    SKINNY("ours:skinny"),
    /**
     * Our second decode GEMM (rows of x ≤ 16): bulk copies through a 4-stage ring on one persistent
     * CTA per SM (skinny2_gemm.cu).
     */
    SKINNY2("ours:skinny2"),
    /** Our tensor-core GEMM (prefill and large batches; mma.sync, any sm_90+ device). */
    TENSOR_CORE("ours:tensor-core"),
    /** Our Hopper GEMM (TMA and wgmma; sm_90 only, see {@link WgmmaGemms}). */
    WGMMA("ours:wgmma"),
    /** Our FP8-weight decode GEMM (rows of x ≤ 256, e4m3 codes widened in registers; skinny_gemm_fp8.cu). */
    SKINNY_FP8("ours:skinny-fp8"),
    /**
     * Our FP8-weight second decode GEMM (tensor copies of e4m3 boxes into a ring, MMAs on the widened
     * codes; launches of up to 64 rows of x; skinny2_gemm_fp8.cu).
     */
    SKINNY2_FP8("ours:skinny2-fp8"),
    /**
     * Our Hopper GEMM over FP8 weights (the wgmma GEMM's tiles, the codes widened in shared memory
     * before the MMAs; sm_90 only; wgmma_gemm_fp8.cu).
     */
    WGMMA_FP8("ours:wgmma-fp8"),
    /** Our FP8-weight GEMV of one row of x (a warp a weight row, no split of k; gemv_fp8.cu). */
    GEMV_FP8("ours:gemv-fp8"),
    /**
     * Its tensor-core variant (8-row tasks, k split over a task's warps, the codes widened into MMA fragments;
     * gemv_fp8_mma.cu).
     */
    GEMV_FP8_MMA("ours:gemv-fp8-mma"),
    /**
     * Our FP8-weight decode GEMM on wgmma for more than 32 rows of x (the first FP8 skinny GEMM's m64 plan,
     * the codes as A from registers; sm_90 only; skinny_gemm_fp8_wgmma.cu).
     */
    SKINNY_FP8_WGMMA("ours:skinny-fp8-wgmma"),
    /**
     * Our one-row GEMV over bf16 weights on the tensor cores (gemv_fp8_mma.cu's bf16 kernel: 8-row tasks, k split
     * over a task's warps, the weights as MMA fragments as they are).
     */
    GEMV_BF16_MMA("ours:gemv-bf16-mma"),
    /**
     * fp8-dynamic's one-row GEMV: the row quantized to e4m3 per token in each CTA, codes by codes on m16n8k32 MMAs
     * (gemv_fp8_mma.cu's x-codes kernel); not timed, it runs every one-row FP8 projection it fits under
     * fp8-dynamic ({@code Fp8Activations}).
     */
    GEMV_FP8X8_MMA("ours:gemv-fp8x8-mma"),
    /** cuBLASLt, through the project's shim. */
    CUBLASLT("cublaslt");

    private final String label;

    Kernel(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    public boolean ours() {
      return this != CUBLASLT;
    }

    /** Whether it runs on FP8 weights (the others on bf16). */
    public boolean fp8() {
      return this == SKINNY_FP8 || this == SKINNY2_FP8 || this == WGMMA_FP8 || this == GEMV_FP8
          || this == GEMV_FP8_MMA || this == SKINNY_FP8_WGMMA;
    }
  }

  public GemmChoice {
    if ((kernel == Kernel.CUBLASLT) != (algorithm >= 0)) {
      throw new IllegalArgumentException(kernel + " with algorithm " + algorithm
          + ": cuBLASLt choices name an algorithm (>= 0), ours do not (-1)");
    }
  }

  public static GemmChoice ours(Kernel kernel, double micros) {
    return new GemmChoice(kernel, -1, micros);
  }

  public static GemmChoice cublasLt(int algorithm, double micros) {
    return new GemmChoice(Kernel.CUBLASLT, algorithm, micros);
  }

  /** "ours:skinny", "cublaslt#2": how tables, the load line and report.json name it. */
  public String label() {
    return kernel == Kernel.CUBLASLT ? kernel.label() + "#" + algorithm : kernel.label();
  }

  /** The inverse of {@link #label()}, with the time given apart. */
  public static GemmChoice parse(String label, double micros) {
    for (Kernel k : Kernel.values()) {
      if (k.ours() && label.equals(k.label())) {
        return ours(k, micros);
      }
    }
    String prefix = Kernel.CUBLASLT.label() + "#";
    if (label.startsWith(prefix)) {
      try {
        return cublasLt(Integer.parseInt(label.substring(prefix.length())), micros);
      } catch (NumberFormatException e) {
        // falls through to the error below
      }
    }
    throw new IllegalArgumentException("not a GEMM choice: '" + label + "' (ours:skinny, ours:skinny2, ours:tensor-core, ours:wgmma, "
        + "ours:skinny-fp8, ours:skinny2-fp8 or cublaslt#N)");
  }
}
