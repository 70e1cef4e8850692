package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code EmbeddingParams} in embedding.cu: {@code out[i] = table[tokens[i]]}; a token
 * outside the vocabulary yields a NaN row.
 *
 * @param out (n, hidden) bf16
 * @param table (vocab, hidden) bf16
 * @param tokens (n) int32
 * @param hidden a multiple of 8
 */
public record EmbeddingParams(long out, long table, long tokens, int n, int hidden, int vocab)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(EmbeddingParams.class);

  public EmbeddingParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(table, "table");
    ParamChecks.pointer(tokens, "tokens");
    ParamChecks.nonNegative(n, "n");
    ParamChecks.positive(hidden, "hidden");
    ParamChecks.multipleOf(hidden, 8, "hidden");
    ParamChecks.positive(vocab, "vocab");
  }

  /** One CTA per token. */
  public LaunchShape launch() {
    return LaunchShape.grid1d(n, Kernel.EMBEDDING);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
