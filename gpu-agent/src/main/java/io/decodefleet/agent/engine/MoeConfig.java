package io.decodefleet.agent.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * The sparse MLP of a mixture-of-experts decoder, with the field names of a Hugging Face {@code
 * config.json}: every decoder layer's MLP is {@code numExperts} SwiGLU experts of width {@code
 * moeIntermediateSize}, of which a router (a linear gate over the hidden state, softmax over all
 * experts) picks {@code expertsPerToken} per token; their outputs are summed weighted by their
 * probabilities, renormalised over the chosen ones when {@code normTopkProb}. No shared experts
 * (Qwen2-MoE's are not implemented), and every layer is sparse (no dense {@code mlp_only_layers}).
 *
 * <p>Mixtral computes {@code softmax(top-k logits)}, which is this with {@code normTopkProb} true:
 * the softmax over all experts restricted to the chosen ones and renormalised is the same number.
 *
 * @param numExperts Mixtral's num_local_experts, Qwen3-MoE's num_experts
 * @param expertsPerToken num_experts_per_tok (top-k)
 * @param moeIntermediateSize each expert's intermediate width (Mixtral: intermediate_size)
 * @param normTopkProb whether the chosen experts' probabilities are divided by their sum
 */
public record MoeConfig(int numExperts, int expertsPerToken, int moeIntermediateSize, boolean normTopkProb) {

  public MoeConfig {
    List<String> problems = new ArrayList<>();
    if (numExperts < 2) problems.add("num_experts must be >= 2, got " + numExperts);
    if (expertsPerToken < 1 || expertsPerToken > numExperts) {
      problems.add("num_experts_per_tok must be in 1..num_experts, got " + expertsPerToken);
    }
    if (moeIntermediateSize <= 0) problems.add("moe_intermediate_size must be > 0");
    if (!problems.isEmpty()) throw new IllegalArgumentException(String.join("; ", problems));
  }

  /** Parameters of one layer's sparse MLP: the router and every expert's gate, up and down. */
  public long parametersPerLayer(int hiddenSize) {
    return (long) numExperts * hiddenSize + 3L * numExperts * hiddenSize * moeIntermediateSize;
  }

  /** Parameters one token's MLP reads in one layer: the router and its top-k experts. */
  public long activeParametersPerLayer(int hiddenSize) {
    return (long) numExperts * hiddenSize + 3L * expertsPerToken * hiddenSize * moeIntermediateSize;
  }
}
