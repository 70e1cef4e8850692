package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code Skinny2GemmParams} in skinny2_gemm.cu: {@code out = x · wᵀ} for at most 16 rows
 * of x, the weights brought in by one tensor copy per 256-k stage through a host-encoded tensor
 * map ({@link Skinny2GemmPlan#wMapSpec}), the x rows by bulk copies from {@code x}. Built by
 * {@link Skinny2GemmPlan#params}.
 *
 * @param wMap w (n, k) as a (k, n) tensor map, boxes of 256 k × 64 rows, no swizzle
 * @param out (m, outStride) bf16, or float32 when {@code outFloat} is 1
 * @param x (m, k) bf16, 16-byte aligned
 * @param workspace {@link Skinny2GemmPlan#workspaceFloats()} float32 (0 when splits == 1)
 * @param counters {@link Skinny2GemmPlan#counterCount()} int32, zeroed once (0 when splits == 1)
 * @param kSlice k per split, a multiple of {@value Skinny2GemmPlan#CHUNK_K}
 * @param outFloat 1: out is (m, outStride) float32 (a tensor-parallel rank's partial sums), else 0
 */
public record Skinny2GemmParams(
    TensorMap wMap,
    long out,
    long x,
    long workspace,
    long counters,
    int m,
    int n,
    int k,
    int outStride,
    int kSlice,
    int splits,
    int outFloat)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(Skinny2GemmParams.class);

  public Skinny2GemmParams {
    check(wMap, out, x, workspace, counters, m, Skinny2GemmPlan.MAX_M, n, k, outStride, kSlice, splits, outFloat);
  }

  /** The checks of a launch of either variant (bf16 here, FP8 in {@link Skinny2GemmFp8Params}) of at most {@code maxM} rows. */
  static void check(TensorMap wMap, long out, long x, long workspace, long counters, int m, int maxM, int n, int k,
      int outStride, int kSlice, int splits, int outFloat) {
    if (wMap == null) {
      throw new IllegalArgumentException("wMap must be an encoded tensor map (was null)");
    }
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(x, "x");
    if (x % 16 != 0) {
      throw new IllegalArgumentException("x (0x" + Long.toHexString(x) + ") must be 16-byte aligned");
    }
    ParamChecks.positive(m, "m");
    ParamChecks.atMost(m, maxM, "m");
    ParamChecks.positive(n, "n");
    ParamChecks.positive(k, "k");
    ParamChecks.multipleOf(k, 8, "k");
    ParamChecks.positive(kSlice, "kSlice");
    ParamChecks.multipleOf(kSlice, Skinny2GemmPlan.CHUNK_K, "kSlice");
    ParamChecks.positive(splits, "splits");
    ParamChecks.flag(outFloat, "outFloat");
    if (splits > 1) {
      ParamChecks.pointer(workspace, "workspace");
      ParamChecks.pointer(counters, "counters");
    }
    if (outStride < n) {
      throw new IllegalArgumentException("outStride (" + outStride + ") must be >= n (" + n + ")");
    }
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
