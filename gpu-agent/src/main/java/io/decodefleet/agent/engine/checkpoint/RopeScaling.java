package io.decodefleet.agent.engine.checkpoint;

import io.decodefleet.kernels.reference.Rope;
import java.util.ArrayList;
import java.util.List;

/**
 * Llama 3.1's RoPE frequency scaling, a {@code config.json}'s {@code rope_scaling} of {@code rope_type}
 * "llama3": long wavelengths slowed by {@code factor}, short ones kept, those between blended
 * ({@link Rope#llama3Frequencies}). Llama 3.1 and 3.2 checkpoints carry it (factor 8 or 32, low 1, high
 * 4, original 8192).
 *
 * @param factor how much the long wavelengths are stretched
 * @param lowFreqFactor wavelengths past originalMaxPositionEmbeddings / lowFreqFactor are stretched
 * @param highFreqFactor wavelengths under originalMaxPositionEmbeddings / highFreqFactor are kept
 * @param originalMaxPositionEmbeddings the context the model was first trained at
 */
public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor,
    int originalMaxPositionEmbeddings) {

  public RopeScaling {
    List<String> problems = new ArrayList<>();
    if (!(factor >= 1) || Double.isInfinite(factor)) problems.add("factor must be finite and >= 1");
    if (!(lowFreqFactor > 0) || Double.isInfinite(lowFreqFactor)) problems.add("low_freq_factor must be > 0");
    if (!(highFreqFactor > lowFreqFactor) || Double.isInfinite(highFreqFactor)) {
      problems.add("high_freq_factor must be finite and > low_freq_factor");
    }
    if (originalMaxPositionEmbeddings <= 0) problems.add("original_max_position_embeddings must be > 0");
    if (!problems.isEmpty()) throw new IllegalArgumentException("rope_scaling: " + String.join("; ", problems));
  }

  /** The head's headDim/2 frequencies for the RoPE base {@code theta}. */
  public double[] frequencies(int headDim, double theta) {
    return Rope.llama3Frequencies(headDim, theta, factor, lowFreqFactor, highFreqFactor,
        originalMaxPositionEmbeddings);
  }
}
