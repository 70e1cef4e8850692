package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code RopeKvParams} in rope_kv.cu: rotates q and k in place and appends k and v to
 * the paged cache at {@code slotMapping} (negative = padding token, not stored).
 *
 * @param q (n, qStride) bf16, in/out
 * @param k (n, kStride) bf16, in/out
 * @param v (n, vStride) bf16
 * @param kCache (numBlocks, blockSize, kvHeads, headDim) bf16
 * @param vCache (numBlocks, blockSize, kvHeads, headDim) bf16
 * @param positions (n) int32
 * @param slotMapping (n) int32: block * blockSize + offset
 * @param cosSin (tablePositions, headDim) float32 from {@link RopeTable}
 */
public record RopeKvParams(
    long q,
    long k,
    long v,
    long kCache,
    long vCache,
    long positions,
    long slotMapping,
    long cosSin,
    int n,
    int qHeads,
    int kvHeads,
    int headDim,
    int qStride,
    int kStride,
    int vStride,
    int tablePositions)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(RopeKvParams.class);

  public RopeKvParams {
    ParamChecks.pointer(q, "q");
    ParamChecks.pointer(k, "k");
    ParamChecks.pointer(v, "v");
    ParamChecks.pointer(kCache, "kCache");
    ParamChecks.pointer(vCache, "vCache");
    ParamChecks.pointer(positions, "positions");
    ParamChecks.pointer(slotMapping, "slotMapping");
    ParamChecks.pointer(cosSin, "cosSin");
    ParamChecks.nonNegative(n, "n");
    ParamChecks.positive(qHeads, "qHeads");
    ParamChecks.positive(kvHeads, "kvHeads");
    ParamChecks.positive(headDim, "headDim");
    ParamChecks.multipleOf(headDim, 16, "headDim");
    ParamChecks.multipleOf(qStride, 8, "qStride");
    ParamChecks.multipleOf(kStride, 8, "kStride");
    ParamChecks.multipleOf(vStride, 8, "vStride");
    ParamChecks.positive(tablePositions, "tablePositions");
  }

  /** One CTA per token. */
  public LaunchShape launch() {
    return LaunchShape.grid1d(n, Kernel.ROPE_KV_APPEND);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
