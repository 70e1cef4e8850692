package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code DummyWeightsParams} in dummy_weights.cu: elements {@code [indexBase, indexBase +
 * n)} of the dummy-weight tensor {@code tensorId}, each {@code bf16(offset + scale * u)} with
 * {@code u} the counter hash of (seed, tensorId, index) mapped to [-1, 1). The 64-bit seed, tensor
 * id and index base are split into (lo, hi) halves; {@link #of} does the split.
 *
 * @param out (n) bf16
 */
public record DummyWeightsParams(
    long out,
    int n,
    int seedLo,
    int seedHi,
    int tensorIdLo,
    int tensorIdHi,
    int indexBaseLo,
    int indexBaseHi,
    float scale,
    float offset)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(DummyWeightsParams.class);

  /** Elements one launch fills at most; larger tensors are filled piecewise. */
  public static final int MAX_N = 1 << 30;

  public DummyWeightsParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.nonNegative(n, "n");
    ParamChecks.atMost(n, MAX_N, "n");
    if (!Float.isFinite(scale) || !Float.isFinite(offset)) {
      throw new IllegalArgumentException(
          "scale and offset must be finite but are " + scale + " and " + offset);
    }
  }

  /** Elements {@code [indexBase, indexBase + n)} of tensor {@code tensorId} into {@code out}. */
  public static DummyWeightsParams of(
      long out, int n, long seed, long tensorId, long indexBase, float scale, float offset) {
    if (indexBase < 0) {
      throw new IllegalArgumentException("indexBase must be >= 0 but is " + indexBase);
    }
    return new DummyWeightsParams(out, n, (int) seed, (int) (seed >>> 32), (int) tensorId,
        (int) (tensorId >>> 32), (int) indexBase, (int) (indexBase >>> 32), scale, offset);
  }

  public long seed() {
    return join(seedLo, seedHi);
  }

  public long tensorId() {
    return join(tensorIdLo, tensorIdHi);
  }

  public long indexBase() {
    return join(indexBaseLo, indexBaseHi);
  }

  private static long join(int lo, int hi) {
    return ((long) hi << 32) | (lo & 0xffffffffL);
  }

  /** Enough CTAs to cover the chip many times over; a grid-stride loop does the rest. */
  public LaunchShape launch() {
    int threads = Kernel.DUMMY_WEIGHTS.threads();
    return new LaunchShape(Math.min(8192, Math.max(1, (n + threads - 1) / threads)), 1, 1,
        threads, 0);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
