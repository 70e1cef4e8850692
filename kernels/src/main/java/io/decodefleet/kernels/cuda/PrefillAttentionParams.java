package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code PrefillAttentionParams} in prefill_attention.cu: causal attention within each
 * of {@code numSeqs} packed sequences.
 *
 * @param out (tokens, qHeads, headDim) bf16
 * @param q (tokens, qHeads, headDim) bf16
 * @param k (tokens, kvHeads, headDim) bf16
 * @param v (tokens, kvHeads, headDim) bf16
 * @param seqStarts (numSeqs + 1) int32 token offsets
 * @param scaleLog2 softmax scale times log2(e)
 */
public record PrefillAttentionParams(
    long out,
    long q,
    long k,
    long v,
    long seqStarts,
    int numSeqs,
    int qHeads,
    int kvHeads,
    int headDim,
    float scaleLog2)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(PrefillAttentionParams.class);

  /** Query rows per CTA. */
  public static final int TILE = 64;

  public PrefillAttentionParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(q, "q");
    ParamChecks.pointer(k, "k");
    ParamChecks.pointer(v, "v");
    ParamChecks.pointer(seqStarts, "seqStarts");
    ParamChecks.nonNegative(numSeqs, "numSeqs");
    ParamChecks.positive(kvHeads, "kvHeads");
    ParamChecks.headDim(headDim);
    if (qHeads % kvHeads != 0) {
      throw new IllegalArgumentException(
          "qHeads (" + qHeads + ") must be a multiple of kvHeads (" + kvHeads + ")");
    }
  }

  /** The kernel for this head dim. */
  public Kernel kernel() {
    return headDim == 64 ? Kernel.PREFILL_ATTENTION_D64 : Kernel.PREFILL_ATTENTION_D128;
  }

  /** (ceil(maxSeqLen / 64), qHeads, numSeqs) CTAs; tiles past a shorter sequence exit at once. */
  public LaunchShape launch(int maxSeqLen) {
    Kernel kernel = kernel();
    return new LaunchShape(
        Math.max(1, (maxSeqLen + TILE - 1) / TILE), qHeads, numSeqs, kernel.threads(),
        kernel.sharedBytes());
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
