package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code PagedAttentionParams} in paged_attention.cu: attention of every row over its
 * own paged context, any head dim up to {@link #MAX_HEAD_DIM}, float32 softmax.
 *
 * @param out (rows, qHeads, headDim) bf16
 * @param q (rows, qHeads, headDim) bf16
 * @param kCache (numBlocks, blockSize, kvHeads, headDim) bf16
 * @param vCache (numBlocks, blockSize, kvHeads, headDim) bf16
 * @param blockTables (rows, stepDims[2]) int32
 * @param contextLens (rows) int32, each >= 1
 * @param stepDims (4) int32 on the device: numItems, chunkTokens, blockTableStride, 0
 * @param scale softmax scale (not log2)
 */
public record PagedAttentionParams(
    long out,
    long q,
    long kCache,
    long vCache,
    long blockTables,
    long contextLens,
    long stepDims,
    int rows,
    int qHeads,
    int kvHeads,
    int headDim,
    int blockSize,
    float scale)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(PagedAttentionParams.class);

  /** Each of the 32 lanes of a warp holds at most 8 dims of q and of the output. */
  public static final int MAX_HEAD_DIM = 256;

  public PagedAttentionParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(q, "q");
    ParamChecks.pointer(kCache, "kCache");
    ParamChecks.pointer(vCache, "vCache");
    ParamChecks.pointer(blockTables, "blockTables");
    ParamChecks.pointer(contextLens, "contextLens");
    ParamChecks.pointer(stepDims, "stepDims");
    ParamChecks.nonNegative(rows, "rows");
    ParamChecks.positive(qHeads, "qHeads");
    ParamChecks.positive(kvHeads, "kvHeads");
    ParamChecks.positive(headDim, "headDim");
    ParamChecks.atMost(headDim, MAX_HEAD_DIM, "headDim");
    ParamChecks.positive(blockSize, "blockSize");
    if (qHeads % kvHeads != 0) {
      throw new IllegalArgumentException(
          "qHeads (" + qHeads + ") must be a multiple of kvHeads (" + kvHeads + ")");
    }
  }

  /** (rows, qHeads) CTAs. */
  public LaunchShape launch() {
    return new LaunchShape(rows, qHeads, 1, Kernel.PAGED_ATTENTION.threads(), 0);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
