package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code DecodeAttentionGraphParams} in decode_attention_graph.cu: the decode-attention
 * launch of a captured graph. Everything a batch bucket fixes is here; the step's plan (item count,
 * chunk length, block-table stride) is read by the kernels from {@code stepDims} on the device,
 * written with the step's inputs before each replay.
 *
 * @param stepDims (4) int32 on the device: numItems, chunkTokens, blockTableStride, 0
 * @param counters (2 + batch * kvHeads) int32, zeroed once (persistent variant)
 * @param scaleLog2 softmax scale times log2(e)
 * @param kScale FP8 kernels: a K element is e4m3(code) * kScale; 1 for the bf16 ones
 * @param vScale FP8 kernels: a V element is e4m3(code) * vScale; 1 for the bf16 ones
 */
public record DecodeAttentionGraphParams(
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
    long stepDims,
    int batch,
    int qHeads,
    int kvHeads,
    int headDim,
    int blockSize,
    int blockShift,
    float scaleLog2,
    float kScale,
    float vScale)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(DecodeAttentionGraphParams.class);

  public DecodeAttentionGraphParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(q, "q");
    ParamChecks.pointer(kCache, "kCache");
    ParamChecks.pointer(vCache, "vCache");
    ParamChecks.pointer(blockTables, "blockTables");
    ParamChecks.pointer(contextLens, "contextLens");
    ParamChecks.pointer(workItems, "workItems");
    ParamChecks.pointer(partialBase, "partialBase");
    ParamChecks.pointer(partialOut, "partialOut");
    ParamChecks.pointer(partialLse, "partialLse");
    ParamChecks.pointer(counters, "counters");
    ParamChecks.pointer(stepDims, "stepDims");
    ParamChecks.positive(batch, "batch");
    ParamChecks.positive(kvHeads, "kvHeads");
    ParamChecks.headDim(headDim);
    if (qHeads % kvHeads != 0) {
      throw new IllegalArgumentException(
          "qHeads (" + qHeads + ") must be a multiple of kvHeads (" + kvHeads + ")");
    }
    ParamChecks.atMost(qHeads / kvHeads, DecodeAttentionParams.MAX_GROUP, "qHeads / kvHeads");
    ParamChecks.powerOfTwo(blockSize, "blockSize");
    ParamChecks.atMost(blockSize, DecodeAttentionPlan.STAGE_TOKENS, "blockSize");
    if (1 << blockShift != blockSize) {
      throw new IllegalArgumentException(
          "blockShift (" + blockShift + ") must be log2(blockSize = " + blockSize + ")");
    }
    KvScales.check(kScale, vScale);
  }

  /** A bf16 cache's launch (both scales 1). */
  public DecodeAttentionGraphParams(long out, long q, long kCache, long vCache, long blockTables, long contextLens,
      long workItems, long partialBase, long partialOut, long partialLse, long counters, long stepDims, int batch,
      int qHeads, int kvHeads, int headDim, int blockSize, int blockShift, float scaleLog2) {
    this(out, q, kCache, vCache, blockTables, contextLens, workItems, partialBase, partialOut, partialLse, counters,
        stepDims, batch, qHeads, kvHeads, headDim, blockSize, blockShift, scaleLog2, 1f, 1f);
  }

  /** The same launch over an FP8 e4m3 cache with these scales (run it on the {@code fp8} kernels). */
  public DecodeAttentionGraphParams withKvScales(float k, float v) {
    return new DecodeAttentionGraphParams(out, q, kCache, vCache, blockTables, contextLens, workItems, partialBase,
        partialOut, partialLse, counters, stepDims, batch, qHeads, kvHeads, headDim, blockSize, blockShift, scaleLog2,
        k, v);
  }

  /** The split (or, with {@code persistent}, persistent) kernel over an FP8 or a bf16 cache. */
  public Kernel kernel(boolean persistent, boolean fp8) {
    if (!fp8) return persistent ? persistentKernel() : splitKernel();
    if (persistent) {
      return headDim == 64
          ? Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_FP8_D64
          : Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_FP8_D128;
    }
    return headDim == 64 ? Kernel.DECODE_ATTENTION_GRAPH_FP8_D64 : Kernel.DECODE_ATTENTION_GRAPH_FP8_D128;
  }

  public Kernel splitKernel() {
    return headDim == 64 ? Kernel.DECODE_ATTENTION_GRAPH_D64 : Kernel.DECODE_ATTENTION_GRAPH_D128;
  }

  public Kernel combineKernel() {
    return headDim == 64
        ? Kernel.DECODE_ATTENTION_GRAPH_COMBINE_D64
        : Kernel.DECODE_ATTENTION_GRAPH_COMBINE_D128;
  }

  public Kernel persistentKernel() {
    return headDim == 64
        ? Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_D64
        : Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_D128;
  }

  /** Split kernel: {@code maxItems} CTAs; those past the step's item count exit at once. */
  public LaunchShape splitLaunch(int maxItems) {
    return LaunchShape.grid1d(maxItems, splitKernel());
  }

  /** Combine kernel: one CTA per (kv head, sequence); single-chunk ones exit at once. */
  public LaunchShape combineLaunch() {
    Kernel k = combineKernel();
    return new LaunchShape(kvHeads, batch, 1, k.threads(), k.sharedBytes());
  }

  /** Persistent kernel: one CTA per slot of the GPU, whatever the step's item count. */
  public LaunchShape persistentLaunch(int slots) {
    ParamChecks.positive(slots, "slots");
    return LaunchShape.grid1d(slots, persistentKernel());
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
