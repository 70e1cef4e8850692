package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code PagedPrefillAttentionParams} in paged_prefill_attention.cu: causal attention of
 * {@code numSpans} spans (runs of one sequence's rows at consecutive positions) over the paged KV
 * cache, each span's rows seeing the sequence's positions up to their own.
 *
 * @param out (rows, qHeads, headDim) bf16
 * @param q (rows, qHeads, headDim) bf16
 * @param kCache (numBlocks, blockSize, kvHeads, headDim) bf16
 * @param vCache (numBlocks, blockSize, kvHeads, headDim) bf16
 * @param spanStarts (numSpans + 1) int32 row offsets: span s is rows [spanStarts[s], spanStarts[s + 1])
 * @param positions (rows) int32 position of each row; a span's first row gives the span's position
 * @param blockTables (numSpans, blockTableStride) int32: the block table of each span's sequence
 * @param blockShift log2(blockSize)
 * @param scaleLog2 softmax scale times log2(e)
 * @param kScale FP8 kernels: a K element is e4m3(code) * kScale; 1 for the bf16 ones
 * @param vScale FP8 kernels: a V element is e4m3(code) * vScale; 1 for the bf16 ones
 */
public record PagedPrefillAttentionParams(
    long out,
    long q,
    long kCache,
    long vCache,
    long spanStarts,
    long positions,
    long blockTables,
    int numSpans,
    int qHeads,
    int kvHeads,
    int headDim,
    int blockSize,
    int blockShift,
    int blockTableStride,
    float scaleLog2,
    float kScale,
    float vScale)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(PagedPrefillAttentionParams.class);

  /** MMA rows per CTA: (span row, query head of the group) pairs. */
  public static final int TILE = 64;

  public PagedPrefillAttentionParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(q, "q");
    ParamChecks.pointer(kCache, "kCache");
    ParamChecks.pointer(vCache, "vCache");
    ParamChecks.pointer(spanStarts, "spanStarts");
    ParamChecks.pointer(positions, "positions");
    ParamChecks.pointer(blockTables, "blockTables");
    ParamChecks.nonNegative(numSpans, "numSpans");
    ParamChecks.positive(kvHeads, "kvHeads");
    ParamChecks.headDim(headDim);
    ParamChecks.powerOfTwo(blockSize, "blockSize");
    ParamChecks.positive(blockTableStride, "blockTableStride");
    if (qHeads % kvHeads != 0) {
      throw new IllegalArgumentException(
          "qHeads (" + qHeads + ") must be a multiple of kvHeads (" + kvHeads + ")");
    }
    ParamChecks.atMost(qHeads / kvHeads, DecodeAttentionParams.MAX_GROUP, "qHeads / kvHeads");
    if (!(kScale > 0) || !(vScale > 0) || Float.isInfinite(kScale) || Float.isInfinite(vScale)) {
      throw new IllegalArgumentException("kScale and vScale must be finite and > 0 but are " + kScale + ", " + vScale);
    }
    if (1 << blockShift != blockSize) {
      throw new IllegalArgumentException("blockShift " + blockShift + " is not log2 of blockSize " + blockSize);
    }
  }

  /** The spans' parameters over a cache of {@code blockSize} (the shift follows from it). */
  public static PagedPrefillAttentionParams of(long out, long q, long kCache, long vCache, long spanStarts,
      long positions, long blockTables, int numSpans, int qHeads, int kvHeads, int headDim, int blockSize,
      int blockTableStride, float scale) {
    return new PagedPrefillAttentionParams(out, q, kCache, vCache, spanStarts, positions, blockTables, numSpans,
        qHeads, kvHeads, headDim, blockSize, Integer.numberOfTrailingZeros(blockSize), blockTableStride,
        (float) (scale / Math.log(2.0)), 1f, 1f);
  }

  /** The same spans over an FP8 cache whose K and V codes carry these scales (the FP8 kernels). */
  public PagedPrefillAttentionParams withKvScales(float k, float v) {
    return new PagedPrefillAttentionParams(out, q, kCache, vCache, spanStarts, positions, blockTables, numSpans, qHeads,
        kvHeads, headDim, blockSize, blockShift, blockTableStride, scaleLog2, k, v);
  }

  /** Span rows one CTA takes: {@code floor(64 / group)}, so that its MMA rows hold whole groups. */
  public static int rowsPerCta(int qHeads, int kvHeads) {
    return TILE / (qHeads / kvHeads);
  }

  /** The bf16 kernel for this head dim. */
  public Kernel kernel() {
    return kernel(false);
  }

  /** The kernel for this head dim over a bf16 or an FP8 cache. */
  public Kernel kernel(boolean fp8) {
    if (fp8) return headDim == 64 ? Kernel.PAGED_PREFILL_ATTENTION_FP8_D64 : Kernel.PAGED_PREFILL_ATTENTION_FP8_D128;
    return headDim == 64 ? Kernel.PAGED_PREFILL_ATTENTION_D64 : Kernel.PAGED_PREFILL_ATTENTION_D128;
  }

  /** (ceil(maxSpanLen / rowsPerCta), kvHeads, numSpans) CTAs; tiles past a shorter span exit at once. */
  public LaunchShape launch(int maxSpanLen) {
    Kernel kernel = kernel(); // the FP8 kernels take the same threads and shared memory
    int rows = rowsPerCta(qHeads, kvHeads);
    return new LaunchShape(Math.max(1, (maxSpanLen + rows - 1) / rows), kvHeads, numSpans, kernel.threads(),
        kernel.sharedBytes());
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
