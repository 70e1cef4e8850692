package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code PrefillAttentionTmaParams} in prefill_attention_tma.cu: the causal attention of {@link
 * PrefillAttentionParams} at head dim 128 with the tiles brought in by TMA, through three host-encoded tensor
 * maps over the packed q, k and v ({@link #qMapSpec}, {@link #kvMapSpec}). sm_90a only ({@link
 * Kernel#runsOn}).
 *
 * @param qMap q (tokens, qHeads × 128) as (qHeads × 128, tokens), boxes of 64 × 64
 * @param kMap k (tokens, kvHeads × 128) as (kvHeads × 128, tokens), boxes of 64 × 128
 * @param vMap v, as k
 * @param out (tokens, qHeads, 128) bf16
 * @param seqStarts (numSeqs + 1) int32 token offsets
 * @param scaleLog2 softmax scale times log2(e)
 */
public record PrefillAttentionTmaParams(
    TensorMap qMap, TensorMap kMap, TensorMap vMap, long out, long seqStarts, int numSeqs, int qHeads, int kvHeads,
    float scaleLog2) implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(PrefillAttentionTmaParams.class);

  /** The head dim it takes. */
  public static final int HEAD_DIM = 128;

  public PrefillAttentionTmaParams {
    if (qMap == null || kMap == null || vMap == null) {
      throw new IllegalArgumentException("qMap, kMap and vMap must be encoded tensor maps");
    }
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(seqStarts, "seqStarts");
    ParamChecks.nonNegative(numSeqs, "numSeqs");
    ParamChecks.positive(kvHeads, "kvHeads");
    if (qHeads % kvHeads != 0) {
      throw new IllegalArgumentException("qHeads (" + qHeads + ") must be a multiple of kvHeads (" + kvHeads + ")");
    }
  }

  /**
   * The TMA kernels' parameters for the attention {@code p} describes over a step's {@code tokens} packed rows, its
   * q, k and v maps encoded by {@code encode} (a cache of them, or the driver).
   */
  public static PrefillAttentionTmaParams of(PrefillAttentionParams p, int tokens,
      java.util.function.Function<TensorMapSpec, TensorMap> encode) {
    if (p.headDim() != HEAD_DIM) {
      throw new IllegalArgumentException("the TMA prefill attention takes head dim " + HEAD_DIM + " (was " + p.headDim() + ")");
    }
    return new PrefillAttentionTmaParams(encode.apply(qMapSpec(p.q(), tokens, p.qHeads())),
        encode.apply(kvMapSpec(p.k(), tokens, p.kvHeads())), encode.apply(kvMapSpec(p.v(), tokens, p.kvHeads())),
        p.out(), p.seqStarts(), p.numSeqs(), p.qHeads(), p.kvHeads(), p.scaleLog2());
  }

  /** q (tokens, qHeads × 128) bf16 as the kernel reads it: boxes of 64 head dims × 64 query rows. */
  public static TensorMapSpec qMapSpec(long q, int tokens, int qHeads) {
    return new TensorMapSpec(q, (long) qHeads * HEAD_DIM, tokens, 2L * qHeads * HEAD_DIM, 64, 64);
  }

  /** k or v (tokens, kvHeads × 128) bf16 as the kernel reads it: boxes of 64 head dims × 128 keys. */
  public static TensorMapSpec kvMapSpec(long kv, int tokens, int kvHeads) {
    return new TensorMapSpec(kv, (long) kvHeads * HEAD_DIM, tokens, 2L * kvHeads * HEAD_DIM, 64, 128);
  }

  /**
   * (qHeads, ceil(maxSeqLen / 128), numSeqs) CTAs, the heads along x as {@link PrefillAttentionParams#launch}
   * (either TMA kernel: the same block and shared memory).
   */
  public LaunchShape launch(int maxSeqLen) {
    Kernel k = Kernel.PREFILL_ATTENTION_TMA_D128;
    int rows = PrefillAttentionParams.WIDE_TILE;
    return new LaunchShape(qHeads, Math.max(1, (maxSeqLen + rows - 1) / rows), numSeqs, k.threads(), k.sharedBytes());
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
