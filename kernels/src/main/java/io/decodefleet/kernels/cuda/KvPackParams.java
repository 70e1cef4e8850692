package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code KvPackParams} in kv_pack.cu, shared by {@link Kernel#KV_PACK} and
 * {@link Kernel#KV_UNPACK}.
 *
 * @param packed (2, numPages, blockSize, kvHeads, headDim) bf16: all K pages, then all V pages
 * @param kCache (numBlocks, blockSize, kvHeads, headDim) bf16
 * @param vCache (numBlocks, blockSize, kvHeads, headDim) bf16
 * @param pages (numPages) int32: the sequence's block table
 * @param pageElems blockSize * kvHeads * headDim, a multiple of 8
 */
public record KvPackParams(
    long packed, long kCache, long vCache, long pages, int numPages, int pageElems)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(KvPackParams.class);

  public KvPackParams {
    ParamChecks.pointer(packed, "packed");
    ParamChecks.pointer(kCache, "kCache");
    ParamChecks.pointer(vCache, "vCache");
    ParamChecks.pointer(pages, "pages");
    ParamChecks.nonNegative(numPages, "numPages");
    ParamChecks.positive(pageElems, "pageElems");
    ParamChecks.multipleOf(pageElems, 8, "pageElems");
  }

  /** (numPages, 2) CTAs: one page of K or V each. */
  public LaunchShape launch(Kernel kernel) {
    return new LaunchShape(numPages, 2, 1, kernel.threads(), 0);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
