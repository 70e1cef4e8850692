package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code DecodeAttentionParams} in decode_attention.cu, shared by the split, combine
 * and persistent kernels.
 *
 * @param out (batch, qHeads, headDim) bf16
 * @param q (batch, qHeads, headDim) bf16
 * @param kCache (numBlocks, blockSize, kvHeads, headDim) bf16
 * @param vCache (numBlocks, blockSize, kvHeads, headDim) bf16
 * @param blockTables (batch, blockTableStride) int32
 * @param contextLens (batch) int32, each >= 1
 * @param workItems (numItems, 4) int32 from {@link DecodeAttentionPlan#workItems()}
 * @param partialBase (batch) int32 from {@link DecodeAttentionPlan#partialBase()}
 * @param partialOut (numPartials, group, headDim) float32 (may be 0 when nothing is split)
 * @param partialLse (numPartials, group) float32 (may be 0 when nothing is split)
 * @param counters (2 + batch * kvHeads) int32, zeroed once at allocation (persistent kernel)
 * @param blockShift log2(blockSize)
 * @param chunkTokens from the plan, a multiple of 64
 * @param scaleLog2 softmax scale times log2(e)
 * @param kScale FP8 kernels: a K element is e4m3(code) * kScale; 1 for the bf16 ones
 * @param vScale FP8 kernels: a V element is e4m3(code) * vScale; 1 for the bf16 ones
 */
public record DecodeAttentionParams(
    long out,
    long q,
    long kCache,
    long vCache,
    long blockTables,
    long contextLens,
    long workItems,
    long partialBase,
    long partialOut,
    long partialLse,
    long counters,
    int batch,
    int qHeads,
    int kvHeads,
    int headDim,
    int blockSize,
    int blockShift,
    int blockTableStride,
    int chunkTokens,
    int numItems,
    float scaleLog2,
    float kScale,
    float vScale)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(DecodeAttentionParams.class);

  /** Query heads per kv head that one MMA tile holds. */
  public static final int MAX_GROUP = 16;

  public DecodeAttentionParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(q, "q");
    ParamChecks.pointer(kCache, "kCache");
    ParamChecks.pointer(vCache, "vCache");
    ParamChecks.pointer(blockTables, "blockTables");
    ParamChecks.pointer(contextLens, "contextLens");
    ParamChecks.pointer(workItems, "workItems");
    ParamChecks.pointer(partialBase, "partialBase");
    ParamChecks.positive(batch, "batch");
    ParamChecks.positive(kvHeads, "kvHeads");
    ParamChecks.headDim(headDim);
    if (qHeads % kvHeads != 0) {
      throw new IllegalArgumentException(
          "qHeads (" + qHeads + ") must be a multiple of kvHeads (" + kvHeads + ")");
    }
    ParamChecks.atMost(qHeads / kvHeads, MAX_GROUP, "qHeads / kvHeads");
    ParamChecks.powerOfTwo(blockSize, "blockSize");
    ParamChecks.atMost(blockSize, DecodeAttentionPlan.STAGE_TOKENS, "blockSize");
    if (1 << blockShift != blockSize) {
      throw new IllegalArgumentException(
          "blockShift (" + blockShift + ") must be log2(blockSize = " + blockSize + ")");
    }
    ParamChecks.positive(blockTableStride, "blockTableStride");
    ParamChecks.positive(chunkTokens, "chunkTokens");
    ParamChecks.multipleOf(chunkTokens, DecodeAttentionPlan.STAGE_TOKENS, "chunkTokens");
    ParamChecks.nonNegative(numItems, "numItems");
    KvScales.check(kScale, vScale);
  }

  /** A bf16 cache's launch (both scales 1). */
  public DecodeAttentionParams(long out, long q, long kCache, long vCache, long blockTables, long contextLens,
      long workItems, long partialBase, long partialOut, long partialLse, long counters, int batch, int qHeads,
      int kvHeads, int headDim, int blockSize, int blockShift, int blockTableStride, int chunkTokens, int numItems,
      float scaleLog2) {
    this(out, q, kCache, vCache, blockTables, contextLens, workItems, partialBase, partialOut, partialLse, counters,
        batch, qHeads, kvHeads, headDim, blockSize, blockShift, blockTableStride, chunkTokens, numItems, scaleLog2,
        1f, 1f);
  }

  /** The same launch over an FP8 e4m3 cache with these scales (run it on the {@code fp8} kernels). */
  public DecodeAttentionParams withKvScales(float k, float v) {
    return new DecodeAttentionParams(out, q, kCache, vCache, blockTables, contextLens, workItems, partialBase,
        partialOut, partialLse, counters, batch, qHeads, kvHeads, headDim, blockSize, blockShift, blockTableStride,
        chunkTokens, numItems, scaleLog2, k, v);
  }

  /**
   * The parameters of one launch planned by {@code plan}; the buffers hold what the plan's
   * arrays say (work items, partial bases) and are large enough for it.
   */
  public static DecodeAttentionParams of(
      DecodeAttentionPlan plan, Buffers b, int qHeads, int headDim, int blockSize,
      int blockTableStride, float softmaxScale) {
    return new DecodeAttentionParams(
        b.out(), b.q(), b.kCache(), b.vCache(), b.blockTables(), b.contextLens(), b.workItems(),
        b.partialBase(), b.partialOut(), b.partialLse(), b.counters(), plan.batch(), qHeads,
        plan.kvHeads(), headDim, blockSize, Integer.numberOfTrailingZeros(blockSize),
        blockTableStride, plan.chunkTokens(), plan.numItems(),
        (float) (softmaxScale / Math.log(2.0)));
  }

  /** Device addresses of the tensors of a decode-attention launch (see the record's fields). */
  public record Buffers(
      long out,
      long q,
      long kCache,
      long vCache,
      long blockTables,
      long contextLens,
      long workItems,
      long partialBase,
      long partialOut,
      long partialLse,
      long counters) {}

  public Kernel splitKernel() {
    return headDim == 64 ? Kernel.DECODE_ATTENTION_D64 : Kernel.DECODE_ATTENTION_D128;
  }

  /** The split (or, with {@code persistent}, persistent) kernel over an FP8 or a bf16 cache. */
  public Kernel kernel(boolean persistent, boolean fp8) {
    if (!fp8) return persistent ? persistentKernel() : splitKernel();
    if (persistent) {
      return headDim == 64 ? Kernel.DECODE_ATTENTION_PERSISTENT_FP8_D64 : Kernel.DECODE_ATTENTION_PERSISTENT_FP8_D128;
    }
    return headDim == 64 ? Kernel.DECODE_ATTENTION_FP8_D64 : Kernel.DECODE_ATTENTION_FP8_D128;
  }

  public Kernel combineKernel() {
    return headDim == 64 ? Kernel.DECODE_ATTENTION_COMBINE_D64 : Kernel.DECODE_ATTENTION_COMBINE_D128;
  }

  public Kernel persistentKernel() {
    return headDim == 64
        ? Kernel.DECODE_ATTENTION_PERSISTENT_D64
        : Kernel.DECODE_ATTENTION_PERSISTENT_D128;
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
