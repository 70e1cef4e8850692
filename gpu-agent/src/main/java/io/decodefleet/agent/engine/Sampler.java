package io.decodefleet.agent.engine;

import io.decodefleet.kernels.reference.Argmax;

/** Greedy sampling: the arg-max token, ties to the lowest id (deterministic across runs and backends). */
public final class Sampler {
  private final int vocabSize;

  public Sampler(int vocabSize) {
    this.vocabSize = vocabSize;
  }

  /** @param logits (numRows, vocab) float32 */
  public int sample(float[] logits, int row) {
    return Argmax.argmax(logits, row * vocabSize, vocabSize);
  }
}
