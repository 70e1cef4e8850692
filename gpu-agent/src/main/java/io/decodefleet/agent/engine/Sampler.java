package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.kernels.reference.Argmax;
import io.decodefleet.kernels.reference.TokenSampling;

/**
 * Picks a sample row's token on the host, from its logits: the arg-max (ties to the lowest id) when
 * the row is greedy, else a draw by its {@link SamplingParams} ({@link TokenSampling}: the rule the
 * CUDA backend's device sampling follows too).
 */
public final class Sampler {
  private final int vocabSize;

  public Sampler(int vocabSize) {
    this.vocabSize = vocabSize;
  }

  /** @param logits (numRows, vocab) float32 */
  public int sample(float[] logits, int row) {
    return Argmax.argmax(logits, row * vocabSize, vocabSize);
  }

  /**
   * @param logits (numRows, vocab) float32
   * @param position the position the sampled token takes in its sequence (the draw's counter)
   */
  public int sample(float[] logits, int row, SamplingParams params, int position) {
    if (params.greedy()) return sample(logits, row);
    return TokenSampling.sample(logits, row * vocabSize, vocabSize, params.temperature(), params.topP(),
        params.topK(), params.seed(), position);
  }
}
