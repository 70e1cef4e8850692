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
    float offset,
    int cols,
    int rowStrideLo,
    int rowStrideHi)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(DummyWeightsParams.class);

  /** Elements one launch fills at most; larger tensors are filled piecewise. */
  public static final int MAX_N = 1 << 30;

  public DummyWeightsParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.nonNegative(n, "n");
    ParamChecks.atMost(n, MAX_N, "n");
    ParamChecks.nonNegative(cols, "cols");
    if (cols > 0 && n % cols != 0) {
      throw new IllegalArgumentException("n (" + n + ") must be a whole number of rows of " + cols + " columns");
    }
    if (!Float.isFinite(scale) || !Float.isFinite(offset)) {
      throw new IllegalArgumentException(
          "scale and offset must be finite but are " + scale + " and " + offset);
    }
  }

  /** Elements {@code [indexBase, indexBase + n)} of tensor {@code tensorId} into {@code out}. */
  public static DummyWeightsParams of(
      long out, int n, long seed, long tensorId, long indexBase, float scale, float offset) {
    return window(out, n, seed, tensorId, indexBase, 0, 0, scale, offset);
  }

  /**
   * A (n / cols, cols) window of a row-major tensor whose rows are {@code rowStride} elements
   * apart, starting at element {@code indexBase}: a tensor-parallel rank's column slice. With
   * {@code cols == 0} the window is contiguous ({@link #of}).
   */
  public static DummyWeightsParams window(long out, int n, long seed, long tensorId, long indexBase, int cols,
      long rowStride, float scale, float offset) {
    if (indexBase < 0) {
      throw new IllegalArgumentException("indexBase must be >= 0 but is " + indexBase);
    }
    if (cols > 0 && rowStride < cols) {
      throw new IllegalArgumentException("rowStride (" + rowStride + ") must be >= cols (" + cols + ")");
    }
    return new DummyWeightsParams(out, n, (int) seed, (int) (seed >>> 32), (int) tensorId,
        (int) (tensorId >>> 32), (int) indexBase, (int) (indexBase >>> 32), scale, offset, cols, (int) rowStride,
        (int) (rowStride >>> 32));
  }

  public long rowStride() {
    return join(rowStrideLo, rowStrideHi);
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
