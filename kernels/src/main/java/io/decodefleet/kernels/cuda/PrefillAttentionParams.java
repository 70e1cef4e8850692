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

  /** Query rows per CTA of the mma.sync kernels (head dims 64 and 128). */
  public static final int TILE = 64;

  /** Query rows per CTA of {@link Kernel#PREFILL_ATTENTION_WGMMA_D128} and the TMA kernels. */
  public static final int WIDE_TILE = 128;

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
   * Environment setting for {@link Kernel#PREFILL_ATTENTION_WGMMA_D128} at head dim 128 on an sm_90 device: the
   * scores and the weighted sum on wgmma, 128 query rows a CTA of two warpgroups. {@code auto} (the default):
   * where its grid has at least {@link #WGMMA_MIN_CTAS} CTAs; {@code on}: always; {@code off} ({@code 0}, {@code
   * false}): never.
   */
  public static final String WGMMA_ENV = "DECODEFLEET_PREFILL_ATTENTION_WGMMA";

  /** {@link #WGMMA_ENV}'s values. */
  public enum Wgmma {
    AUTO, ON, OFF;

    /** {@code on} and {@code off} (or {@code 0}, {@code false}) as such, anything else (unset included) auto. */
    public static Wgmma parse(String text) {
      if (text == null) return AUTO;
      String t = text.trim().toLowerCase(java.util.Locale.ROOT);
      return t.equals("on") ? ON : t.equals("off") || t.equals("0") || t.equals("false") ? OFF : AUTO;
    }
  }

  /** {@link #WGMMA_ENV}, read once. */
  private static final Wgmma WGMMA = Wgmma.parse(System.getenv(WGMMA_ENV));

  /**
   * Environment setting for the wgmma kernel's consumers fed by TMA from a producer warpgroup ({@link
   * PrefillAttentionTmaParams}), wherever the wgmma kernel would run and tensor maps can be encoded: by default
   * (unset, {@code on} or {@code pingpong}) {@link Kernel#PREFILL_ATTENTION_TMA_PP_D128}, whose two consumers take
   * turns to issue their MMAs; {@code plain} {@link Kernel#PREFILL_ATTENTION_TMA_D128}, where they do not; {@code
   * off} ({@code 0}, {@code false}) the wgmma kernel's own copies. On an H100 at 2048 tokens: own copies 102.3 µs
   * a launch, TMA 79.2 (−23 %); in the prompt profile ping-pong took another 11.5 % off TMA's attention there.
   */
  public static final String TMA_ENV = "DECODEFLEET_PREFILL_ATTENTION_TMA";

  private static final Kernel TMA = tmaKernel(System.getenv(TMA_ENV));

  /** {@link #TMA_ENV}'s kernel, read once: null for off. */
  public static Kernel tmaKernel() {
    return TMA;
  }

  /** {@link #TMA_ENV}'s kernel for {@code text}: null for off. */
  static Kernel tmaKernel(String text) {
    if (text != null && text.trim().equalsIgnoreCase("plain")) return Kernel.PREFILL_ATTENTION_TMA_D128;
    return Wgmma.parse(text) == Wgmma.OFF ? null : Kernel.PREFILL_ATTENTION_TMA_PP_D128;
  }

  /**
   * Fewer CTAs of 128 rows than this (heads × query tiles × sequences) and {@code auto} runs the mma.sync kernel:
   * on an H100 the wgmma kernel was 15 % slower at one 128-token prompt (32 CTAs: a quarter of the SMs) and
   * 11 % faster at 512 tokens (128 CTAs), 25 % at 2048 and 33 % at 8192 (docs/performance.md).
   */
  public static final int WGMMA_MIN_CTAS = 128;

  /**
   * The kernel for this head dim and a longest sequence of {@code maxSeqLen} rows, as {@link #WGMMA_ENV} says;
   * the caller runs {@link Kernel#PREFILL_ATTENTION_D128} where the wgmma kernel does not run ({@link
   * Kernel#runsOn}), and a TMA kernel ({@link #tmaKernel()}) in its place where tensor maps can be encoded.
   */
  public Kernel kernel(int maxSeqLen) {
    return kernel(choose(WGMMA, maxSeqLen));
  }

  /** {@link #kernel(int)}'s rule with the setting given: for tests. */
  Kernel choose(Wgmma wgmma, int maxSeqLen) {
    long ctas = (long) qHeads * numSeqs * ((Math.max(1, maxSeqLen) + WIDE_TILE - 1) / WIDE_TILE);
    return wgmma == Wgmma.ON || (wgmma == Wgmma.AUTO && ctas >= WGMMA_MIN_CTAS)
        ? Kernel.PREFILL_ATTENTION_WGMMA_D128 : Kernel.PREFILL_ATTENTION_D128;
  }

  /**
   * What the settings make of the prompts' attention, for the model-load line ({@code wgmmaRuns}: an sm_90 device;
   * {@code tmaRuns}: tensor maps can be encoded here).
   */
  public static String choice(boolean wgmmaRuns, boolean tmaRuns) {
    String other = "mma.sync";
    if (!wgmmaRuns || WGMMA == Wgmma.OFF) return other;
    String wgmma = TMA == null || !tmaRuns ? "wgmma" : TMA == Kernel.PREFILL_ATTENTION_TMA_PP_D128
        ? "wgmma fed by TMA, consumers in turn" : "wgmma fed by TMA, consumers free";
    return WGMMA == Wgmma.ON ? wgmma : wgmma + " from " + WGMMA_MIN_CTAS + " CTAs of 128 rows, else " + other;
  }

  /**
   * The kernel for this head dim: {@code d128} (one of the four head-dim-128 kernels) at 128, the one
   * kernel there is at 64.
   */
  public Kernel kernel(Kernel d128) {
    if (d128 != Kernel.PREFILL_ATTENTION_D128 && d128 != Kernel.PREFILL_ATTENTION_WGMMA_D128
        && d128 != Kernel.PREFILL_ATTENTION_TMA_D128 && d128 != Kernel.PREFILL_ATTENTION_TMA_PP_D128) {
      throw new IllegalArgumentException(d128 + " is not a head-dim-128 prefill attention kernel");
    }
    return headDim == 64 ? Kernel.PREFILL_ATTENTION_D64 : d128;
  }

  /** Query rows a CTA of {@code kernel} takes. */
  public static int rowsPerCta(Kernel kernel) {
    return kernel == Kernel.PREFILL_ATTENTION_WGMMA_D128 || kernel == Kernel.PREFILL_ATTENTION_TMA_D128
        || kernel == Kernel.PREFILL_ATTENTION_TMA_PP_D128 ? WIDE_TILE : TILE;
  }

  /**
   * (qHeads, ceil(maxSeqLen / rows), numSeqs) CTAs of {@code kernel}, rows its {@link #rowsPerCta}: the heads
   * along x, so that the GPU, issuing x fastest, starts every head's longest query tile before any shorter one;
   * tiles past a shorter sequence exit at once.
   */
  public LaunchShape launch(Kernel kernel, int maxSeqLen) {
    int rows = rowsPerCta(kernel);
    return new LaunchShape(
        qHeads, Math.max(1, (maxSeqLen + rows - 1) / rows), numSeqs, kernel.threads(),
        kernel.sharedBytes());
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
