package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code PagedAttentionFp8Params} in paged_attention.cu: {@link PagedAttentionParams}'s
 * attention over an FP8 e4m3fn KV cache, each element {@code e4m3(code) * kScale} (K) or {@code *
 * vScale} (V).
 *
 * @param out (rows, qHeads, headDim) bf16
 * @param q (rows, qHeads, headDim) bf16
 * @param kCache (numBlocks, blockSize, kvHeads, headDim) e4m3 codes
 * @param vCache (numBlocks, blockSize, kvHeads, headDim) e4m3 codes
 * @param blockTables (rows, stepDims[2]) int32
 * @param contextLens (rows) int32, each >= 1
 * @param stepDims (4) int32 on the device: numItems, chunkTokens, blockTableStride, 0
 * @param scale softmax scale (not log2)
 */
public record PagedAttentionFp8Params(
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
    float scale,
    float kScale,
    float vScale)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(PagedAttentionFp8Params.class);

  public PagedAttentionFp8Params {
    // The same checks as the bf16 kernel's, by constructing its mirror.
    new PagedAttentionParams(out, q, kCache, vCache, blockTables, contextLens, stepDims, rows, qHeads, kvHeads,
        headDim, blockSize, scale);
    KvScales.check(kScale, vScale);
  }

  /** (rows, qHeads) CTAs. */
  public LaunchShape launch() {
    return new LaunchShape(rows, qHeads, 1, Kernel.PAGED_ATTENTION_FP8.threads(), 0);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
