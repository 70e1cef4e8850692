package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code FillParams} in fill.cu: {@code out[i]} uniform in [-scale, scale), a pure
 * function of (seed, i).
 *
 * @param out (n) bf16
 */
public record FillParams(long out, int n, int seed, float scale) implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(FillParams.class);

  /** Elements one launch fills at most; larger tensors are filled piecewise. */
  public static final int MAX_N = 1 << 30;

  public FillParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.nonNegative(n, "n");
    ParamChecks.atMost(n, MAX_N, "n");
    if (!(scale > 0f) || Float.isInfinite(scale)) {
      throw new IllegalArgumentException("scale must be finite and > 0 but is " + scale);
    }
  }

  /** Enough CTAs to cover the chip several times over; a grid-stride loop does the rest. */
  public LaunchShape launch() {
    int threads = Kernel.FILL_UNIFORM.threads();
    return new LaunchShape(Math.min(4096, Math.max(1, (n + threads - 1) / threads)), 1, 1,
        threads, 0);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
