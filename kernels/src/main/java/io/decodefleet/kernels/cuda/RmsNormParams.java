package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code RmsNormParams} in rmsnorm.cu: {@code out = rmsnorm(residual += x)}, or the
 * plain norm of x when {@code residual} is 0.
 *
 * @param out (rows, hidden) bf16
 * @param residual (rows, hidden) bf16, in/out; 0 for the plain norm
 * @param x (rows, hidden) bf16
 * @param weight (hidden) bf16
 * @param hidden a multiple of 8, at most {@link #MAX_HIDDEN}
 * @param xFloat 1: x is (rows, hidden) float32, rounded to bf16 as it is read; else 0
 * @param codes fp8-dynamic: (rows, hidden) e4m3 codes of out's rows, each quantized per row as {@code
 *     df_fp8_quantize_rows} would; 0 for none ({@link #withCodes})
 * @param scales (rows) float32, each row's scale; set with codes
 */
public record RmsNormParams(
    long out, long residual, long x, long weight, int rows, int hidden, float eps, int xFloat, long codes,
    long scales)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(RmsNormParams.class);

  /** 256 threads x 8 vectors of 8 bf16 held in registers per thread. */
  public static final int MAX_HIDDEN = 256 * 8 * 8;

  public RmsNormParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(x, "x");
    ParamChecks.pointer(weight, "weight");
    ParamChecks.nonNegative(rows, "rows");
    ParamChecks.positive(hidden, "hidden");
    ParamChecks.multipleOf(hidden, 8, "hidden");
    ParamChecks.atMost(hidden, MAX_HIDDEN, "hidden");
    ParamChecks.flag(xFloat, "xFloat");
    if ((codes == 0) != (scales == 0)) {
      throw new IllegalArgumentException("codes and scales come together (codes " + codes + ", scales " + scales + ")");
    }
    if (codes != 0) ParamChecks.multipleOf(hidden, 16, "hidden");
  }

  /** No codes. */
  public RmsNormParams(long out, long residual, long x, long weight, int rows, int hidden, float eps, int xFloat) {
    this(out, residual, x, weight, rows, hidden, eps, xFloat, 0L, 0L);
  }

  /** bf16 x, no codes. */
  public RmsNormParams(long out, long residual, long x, long weight, int rows, int hidden, float eps) {
    this(out, residual, x, weight, rows, hidden, eps, 0);
  }

  /** The same norm, also writing each output row's e4m3 codes and scale (fp8-dynamic; hidden a multiple of 16). */
  public RmsNormParams withCodes(long codes, long scales) {
    ParamChecks.pointer(codes, "codes");
    ParamChecks.pointer(scales, "scales");
    return new RmsNormParams(out, residual, x, weight, rows, hidden, eps, xFloat, codes, scales);
  }

  /** One CTA per row. */
  public LaunchShape launch() {
    return LaunchShape.grid1d(rows, Kernel.RMSNORM);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
