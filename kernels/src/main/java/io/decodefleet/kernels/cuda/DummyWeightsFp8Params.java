package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code DummyWeightsFp8Params} in fp8_weights.cu, the two passes that make a dummy
 * projection in FP8 as the CPU backend's {@code --quantization fp8} does: {@link
 * Kernel#DUMMY_WEIGHTS_AMAX} raises {@code *amax} to the largest magnitude of elements {@code
 * [indexBase, indexBase + n)} (float32, before any rounding), {@link Kernel#DUMMY_WEIGHTS_FP8}
 * writes each element's code {@code e4m3(v / s)}, {@code s = amax / 448} (1 when amax is 0), and
 * {@code s} into the first {@code rows} entries of {@code rowScales}.
 *
 * @param out (n) e4m3 codes; unused by the amax pass
 * @param amax (1) float32 bits, zeroed before the first amax piece
 * @param rowScales (rows) float32; unused by the amax pass
 * @param rows row scales to write (0: none)
 */
public record DummyWeightsFp8Params(
    long out,
    long amax,
    long rowScales,
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
    int rowStrideHi,
    int rows)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(DummyWeightsFp8Params.class);

  public DummyWeightsFp8Params {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(amax, "amax");
    ParamChecks.pointer(rowScales, "rowScales");
    ParamChecks.nonNegative(rows, "rows");
    if (rows > n) {
      throw new IllegalArgumentException("rows (" + rows + ") must be <= n (" + n + ")");
    }
    // The element checks of the bf16 kernel's mirror.
    new DummyWeightsParams(out, n, seedLo, seedHi, tensorIdLo, tensorIdHi, indexBaseLo, indexBaseHi, scale, offset,
        cols, rowStrideLo, rowStrideHi);
  }

  /** The FP8 passes over the elements {@code p} names, with the amax word and row scales given. */
  public static DummyWeightsFp8Params of(DummyWeightsParams p, long amax, long rowScales, int rows) {
    return new DummyWeightsFp8Params(p.out(), amax, rowScales, p.n(), p.seedLo(), p.seedHi(), p.tensorIdLo(),
        p.tensorIdHi(), p.indexBaseLo(), p.indexBaseHi(), p.scale(), p.offset(), p.cols(), p.rowStrideLo(),
        p.rowStrideHi(), rows);
  }

  /** As the bf16 kernel: a grid-stride loop over at most 8192 CTAs. */
  public LaunchShape launch() {
    int threads = Kernel.DUMMY_WEIGHTS_FP8.threads();
    return new LaunchShape(Math.min(8192, Math.max(1, (n + threads - 1) / threads)), 1, 1, threads, 0);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
