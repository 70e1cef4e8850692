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

  /**
   * Environment setting that picks {@link Kernel#PREFILL_ATTENTION_3CTA_D128} at head dim 128 ("on";
   * default off until it is measured on a GPU): the same tiles with the query tile staged in a K/V
   * buffer, so three CTAs fit an SM.
   */
  public static final String THREE_CTA_ENV = "DECODEFLEET_PREFILL_ATTENTION_3CTA";

  /** {@link #THREE_CTA_ENV}, read once: every prefill layer asks. */
  private static final boolean THREE_CTA = "on".equalsIgnoreCase(System.getenv(THREE_CTA_ENV));

  /** The kernel for this head dim, as {@link #THREE_CTA_ENV} says. */
  public Kernel kernel() {
    return kernel(THREE_CTA);
  }

  /** The kernel for this head dim; {@code threeCta}: the three-CTA variant where there is one (head dim 128). */
  public Kernel kernel(boolean threeCta) {
    if (headDim == 64) return Kernel.PREFILL_ATTENTION_D64;
    return threeCta ? Kernel.PREFILL_ATTENTION_3CTA_D128 : Kernel.PREFILL_ATTENTION_D128;
  }

  /** (ceil(maxSeqLen / 64), qHeads, numSeqs) CTAs of {@code kernel}; tiles past a shorter sequence exit at once. */
  public LaunchShape launch(Kernel kernel, int maxSeqLen) {
    return new LaunchShape(
        Math.max(1, (maxSeqLen + TILE - 1) / TILE), qHeads, numSeqs, kernel.threads(),
        kernel.sharedBytes());
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
