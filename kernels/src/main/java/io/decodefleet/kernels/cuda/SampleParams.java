package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code SampleParams} in sample.cu: one token per row drawn by that row's temperature,
 * top-k, top-p, seed and position (the rule of {@code reference.TokenSampling}); rows whose
 * temperature is not &gt; 0 or whose top_k is 1 take the arg-max, as {@link ArgmaxParams}. The
 * per-row params live in small device arrays so that one launch serves a mixed batch.
 *
 * @param out (rows) int32 token ids, -1 for a row with no kept logit
 * @param logits (rows, stride) bf16
 * @param temperature (rows) float32
 * @param topP (rows) float32 in (0, 1]; 1: no cut
 * @param topK (rows) int32; &lt;= 0 or &gt;= vocab: no cut
 * @param seedLo (rows) uint32, the low 32 bits of each row's seed
 * @param seedHi (rows) uint32, the high 32 bits
 * @param position (rows) int32, the position each sampled token takes (the draw's counter)
 */
public record SampleParams(long out, long logits, long temperature, long topP, long topK, long seedLo, long seedHi,
    long position, int rows, int vocab, int stride) implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(SampleParams.class);

  public SampleParams {
    ParamChecks.pointer(out, "out");
    ParamChecks.pointer(logits, "logits");
    ParamChecks.pointer(temperature, "temperature");
    ParamChecks.pointer(topP, "topP");
    ParamChecks.pointer(topK, "topK");
    ParamChecks.pointer(seedLo, "seedLo");
    ParamChecks.pointer(seedHi, "seedHi");
    ParamChecks.pointer(position, "position");
    ParamChecks.nonNegative(rows, "rows");
    ParamChecks.positive(vocab, "vocab");
    if (stride < vocab) {
      throw new IllegalArgumentException("stride (" + stride + ") must be >= vocab (" + vocab + ")");
    }
  }

  /** One CTA per row. */
  public LaunchShape launch() {
    return LaunchShape.grid1d(rows, Kernel.SAMPLE);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
