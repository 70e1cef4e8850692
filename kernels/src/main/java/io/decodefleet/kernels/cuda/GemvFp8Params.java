package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code GemvFp8Params} in gemv_fp8.cu: the FP8 GEMV of one decode row, {@code out = (x ·
 * e4m3(w)ᵀ) * scale[row]}, a warp per weight row (no split of k, no partials).
 *
 * @param out (1, outStride) bf16, or float32 when {@code outFloat} is 1
 * @param x (1, k) bf16: the row, or SwiGLU's gate where {@code up} is set
 * @param up (1, k) bf16: SwiGLU's up (the row is {@code silu(x) * up} rounded to bf16, as the SwiGLU
 *     kernel computes it: one launch fewer), or 0 (x is the row)
 * @param w (n, k) e4m3 codes, 16-byte aligned
 * @param scale (n) float32
 * @param k a multiple of 16, at most {@link #MAX_K} (a multiple of 512, so the shared memory fits)
 * @param earlyWeights 1: the codes are resident, so each warp loads its first batch before it waits for
 *     the previous launch ({@link SkinnyGemmParams#earlyWeights()})
 * @param pad 0 (the C struct's size is a multiple of its pointers')
 */
public record GemvFp8Params(
    long out,
    long x,
    long up,
    long w,
    long scale,
    int n,
    int k,
    int outStride,
    int outFloat,
    int earlyWeights,
    int pad)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(GemvFp8Params.class);

  /** The deepest row: x as float32 in at most 64 KiB of shared memory (kGemvFp8MaxK). */
  public static final int MAX_K = 16384;

  /** Weight rows one CTA's warps take at a time (256 threads). */
  static final int ROWS_PER_CTA = 8;

  public GemvFp8Params {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(x, "x");
    if (up != 0) ParamChecks.pointer(up, "up");
    ParamChecks.pointer(w, "w");
    ParamChecks.pointer(scale, "scale");
    ParamChecks.positive(n, "n");
    ParamChecks.positive(k, "k");
    ParamChecks.multipleOf(k, 16, "k");
    ParamChecks.atMost(k, MAX_K, "k");
    ParamChecks.flag(outFloat, "outFloat");
    ParamChecks.flag(earlyWeights, "earlyWeights");
    if (pad != 0) throw new IllegalArgumentException("pad must be 0 but is " + pad);
    if (outStride < n) {
      throw new IllegalArgumentException("outStride (" + outStride + ") must be >= n (" + n + ")");
    }
    if ((w & 15) != 0 || (x & 15) != 0 || (up & 15) != 0) {
      throw new IllegalArgumentException("x, up and w must be 16-byte aligned (x " + x + ", up " + up + ", w " + w
          + ")");
    }
  }

  /** Whether one row of depth {@code k} can run here (k a multiple of 16, at most {@link #MAX_K}). */
  public static boolean supports(int m, int k) {
    return m == 1 && k > 0 && k % 16 == 0 && k <= MAX_K;
  }

  /** One row, resident codes (their first batch loaded before the wait), bf16 or float32 out. */
  public static GemvFp8Params resident(long out, long x, long w, long scale, int n, int k, int outStride,
      boolean outFloat) {
    return new GemvFp8Params(out, x, 0L, w, scale, n, k, outStride, outFloat ? 1 : 0, 1, 0);
  }

  /**
   * As {@link #resident}, the row being SwiGLU of {@code gate} and {@code up} (each (1, k) bf16):
   * {@code silu(gate) * up} rounded to bf16, exactly as the SwiGLU kernel writes it.
   */
  public static GemvFp8Params swiglu(long out, long gate, long up, long w, long scale, int n, int k, int outStride,
      boolean outFloat) {
    ParamChecks.pointer(up, "up");
    return new GemvFp8Params(out, gate, up, w, scale, n, k, outStride, outFloat ? 1 : 0, 1, 0);
  }

  /**
   * The launch: a warp per row, {@code ceil(n / 8)} CTAs but no more than {@code slots} (CTAs the GPU
   * holds at once, {@code Kernel.GEMV_FP8_M1}'s residency): the warps then walk the rows grid-stride.
   * Shared memory: x as float32, in whole groups of 32 vectors of 16 (gemv_fp8_x_at stores a group quarter
   * by quarter, so a part group takes a whole group's place): k rounded up to 512, 4 bytes each.
   */
  public LaunchShape launch(int slots) {
    if (slots < 1) throw new IllegalArgumentException("slots must be positive but is " + slots);
    int ctas = Math.min((n + ROWS_PER_CTA - 1) / ROWS_PER_CTA, slots);
    return new LaunchShape(ctas, 1, 1, Kernel.GEMV_FP8_M1.threads(), sharedBytes(k));
  }

  /** Shared memory of a launch of depth {@code k}: x as float32 in whole 512-deep groups. */
  static int sharedBytes(int k) {
    return (k + 511) / 512 * 512 * 4;
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
