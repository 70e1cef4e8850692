package io.decodefleet.agent.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A Llama-family {@code config.json} (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, and the
 * mixtures of experts MixtralForCausalLM and Qwen3MoeForCausalLM), its
 * fields as Hugging Face names them, with transformers' defaults where a field may be absent
 * (num_key_value_heads = num_attention_heads, head_dim = hidden_size / num_attention_heads,
 * rope_theta 10000, rms_norm_eps 1e-6, tie_word_embeddings false).
 *
 * <p>Refused with one line naming the file and the field: another architecture, a missing or
 * non-integral size, an activation other than silu, a rope_scaling other than Llama 3.1's (rope_type
 * llama3: {@link RopeScaling}; YaRN, linear and dynamic scaling are not implemented), a sliding window shorter than the context (every layer here attends
 * to the whole context), and a quantization other than FP8 with per-tensor or per-channel scales.
 *
 * @param attentionBias q, k and v projections carry biases (Qwen2 always; Llama when attention_bias)
 * @param quantMethod quantization_config.quant_method, or "" for an unquantized checkpoint (the tensors'
 *     dtypes, checked by CheckedCheckpoint, say which weights are FP8)
 * @param qkNorm per-head RMS norms of queries and keys (Qwen3-MoE's q_norm and k_norm)
 * @param numExperts experts per layer (Mixtral's num_local_experts, Qwen3-MoE's num_experts); 0 for a
 *     dense model
 * @param expertsPerToken num_experts_per_tok; 0 for a dense model
 * @param moeIntermediateSize each expert's width (Mixtral's intermediate_size); 0 for a dense model
 * @param normTopkProb whether the chosen experts' weights are renormalised (always for Mixtral)
 * @param ropeScaling Llama 3.1's rope_scaling (rope_type llama3), or null for plain RoPE
 */
public record HfConfig(Path file, String architecture, int hiddenSize, int intermediateSize, int numHiddenLayers,
    int numAttentionHeads, int numKeyValueHeads, int headDim, int vocabSize, int maxPositionEmbeddings,
    double ropeTheta, float rmsNormEps, boolean tieWordEmbeddings, String torchDtype, boolean attentionBias,
    String quantMethod, boolean qkNorm, int numExperts, int expertsPerToken, int moeIntermediateSize,
    boolean normTopkProb, RopeScaling ropeScaling) {

  public static final String MIXTRAL = "MixtralForCausalLM";
  public static final String QWEN3_MOE = "Qwen3MoeForCausalLM";

  /** The architectures whose tensors and math are this engine's. */
  public static final List<String> ARCHITECTURES = List.of("LlamaForCausalLM", "MistralForCausalLM",
      "Qwen2ForCausalLM", MIXTRAL, QWEN3_MOE);
  /** quant_method values whose FP8 tensors carry weight_scale (per tensor or per output channel). */
  public static final List<String> FP8_METHODS = List.of("fp8", "fbgemm_fp8", "compressed-tensors");

  /** Reads {@code file} (a model directory's config.json). */
  public static HfConfig read(Path file) {
    if (!Files.isRegularFile(file)) throw CheckpointException.file(file, "no such file");
    byte[] bytes;
    try {
      if (Files.size(file) > 16L << 20) throw CheckpointException.file(file, "over 16 MiB: not a config.json");
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw CheckpointException.file(file, "cannot read: " + e.getMessage());
    }
    return parse(file, JsonFiles.object(file, bytes, "config"));
  }

  static HfConfig parse(Path file, JsonNode c) {
    JsonNode archs = c.get("architectures");
    if (archs == null || !archs.isArray() || archs.size() != 1 || !archs.get(0).isTextual()) {
      throw CheckpointException.file(file, "architectures must list one architecture, one of " + ARCHITECTURES);
    }
    String arch = archs.get(0).textValue();
    if (!ARCHITECTURES.contains(arch)) {
      throw CheckpointException.file(file, "architecture " + arch + " is not supported (supported: "
          + String.join(", ", ARCHITECTURES) + ")");
    }
    String act = text(file, c, "hidden_act", "silu");
    if (!act.equals("silu")) throw CheckpointException.file(file, "hidden_act " + act + " is not supported (silu is)");
    RopeScaling ropeScaling = ropeScaling(file, c.get("rope_scaling"));
    int hidden = positive(file, c, "hidden_size", null);
    int heads = positive(file, c, "num_attention_heads", null);
    int kvHeads = positive(file, c, "num_key_value_heads", heads);
    if (hidden % heads != 0 && !c.hasNonNull("head_dim")) {
      throw CheckpointException.file(file, "hidden_size " + hidden + " is not a multiple of num_attention_heads "
          + heads + " and there is no head_dim");
    }
    int headDim = positive(file, c, "head_dim", hidden / heads);
    int maxPositions = positive(file, c, "max_position_embeddings", null);
    boolean qwen = arch.equals("Qwen2ForCausalLM") || arch.equals(QWEN3_MOE);
    boolean slidingOn = !qwen || bool(file, c, "use_sliding_window", false);
    if (slidingOn && c.hasNonNull("sliding_window")) {
      int window = positive(file, c, "sliding_window", null);
      if (window < maxPositions) {
        throw CheckpointException.file(file, "sliding_window " + window + " is shorter than max_position_embeddings "
            + maxPositions + ": sliding-window attention is not supported");
      }
    }
    boolean bias = arch.equals("Qwen2ForCausalLM") || bool(file, c, "attention_bias", false);
    if (bool(file, c, "mlp_bias", false)) throw CheckpointException.file(file, "mlp_bias is not supported");
    int inter = positive(file, c, "intermediate_size", null);
    int experts = 0;
    int perToken = 0;
    int moeInter = 0;
    boolean normTopk = false;
    if (arch.equals(MIXTRAL)) {
      experts = positive(file, c, "num_local_experts", null);
      perToken = positive(file, c, "num_experts_per_tok", 2);
      moeInter = inter;
      normTopk = true;
    } else if (arch.equals(QWEN3_MOE)) {
      experts = positive(file, c, "num_experts", null);
      perToken = positive(file, c, "num_experts_per_tok", null);
      moeInter = positive(file, c, "moe_intermediate_size", null);
      normTopk = bool(file, c, "norm_topk_prob", false);
      if (positive(file, c, "decoder_sparse_step", 1) != 1) {
        throw CheckpointException.file(file, "decoder_sparse_step " + c.get("decoder_sparse_step") + " is not supported"
            + " (every layer sparse: 1)");
      }
      JsonNode dense = c.get("mlp_only_layers");
      if (dense != null && !dense.isNull() && !(dense.isArray() && dense.isEmpty())) {
        throw CheckpointException.file(file, "mlp_only_layers " + dense + " is not supported (every layer sparse: [])");
      }
    }
    if (experts > 0 && perToken > experts) {
      throw CheckpointException.file(file, "num_experts_per_tok " + perToken + " is more than the " + experts
          + " experts");
    }
    if (c.hasNonNull("shared_expert_intermediate_size") && c.get("shared_expert_intermediate_size").asInt() > 0) {
      throw CheckpointException.file(file, "shared_expert_intermediate_size: shared experts are not supported");
    }
    return new HfConfig(file, arch, hidden, inter,
        positive(file, c, "num_hidden_layers", null), heads, kvHeads, headDim, positive(file, c, "vocab_size", null),
        maxPositions, number(file, c, "rope_theta", 10000.0), (float) number(file, c, "rms_norm_eps", 1e-6),
        bool(file, c, "tie_word_embeddings", false), text(file, c, "torch_dtype", "bfloat16"), bias,
        quantMethod(file, c.get("quantization_config")), arch.equals(QWEN3_MOE), experts, perToken, moeInter, normTopk,
        ropeScaling);
  }

  /**
   * rope_scaling: absent, null or of rope_type "default" is plain RoPE; "llama3" (Llama 3.1 and 3.2) is
   * read with its four fields, each required; any other type (linear, dynamic, yarn, longrope, ...) is
   * refused.
   */
  private static RopeScaling ropeScaling(Path file, JsonNode r) {
    if (r == null || r.isNull()) return null;
    if (!r.isObject()) throw CheckpointException.file(file, "rope_scaling " + r + " is not a JSON object");
    // Older configs name the type "type"; Hugging Face reads rope_type first.
    String type = text(file, r, "rope_type", text(file, r, "type", ""));
    if (type.equals("default")) return null;
    if (!type.equals("llama3")) {
      throw CheckpointException.file(file, "rope_scaling " + r + " is not supported (plain RoPE, or rope_type llama3"
          + " as Llama 3.1 has)");
    }
    for (String key : List.of("factor", "low_freq_factor", "high_freq_factor")) {
      if (!r.hasNonNull(key)) throw CheckpointException.file(file, "rope_scaling." + key + " is missing");
    }
    try {
      return new RopeScaling(number(file, r, "factor", 1), number(file, r, "low_freq_factor", 1),
          number(file, r, "high_freq_factor", 1), positive(file, r, "original_max_position_embeddings", null));
    } catch (IllegalArgumentException e) {
      throw CheckpointException.file(file, e.getMessage());
    }
  }

  /** Whether the MLP is a mixture of experts. */
  public boolean moe() {
    return numExperts > 0;
  }

  private static String quantMethod(Path file, JsonNode q) {
    if (q == null || q.isNull()) return "";
    if (!q.isObject()) throw CheckpointException.file(file, "quantization_config is not a JSON object");
    String method = text(file, q, "quant_method", "");
    if (!FP8_METHODS.contains(method)) {
      throw CheckpointException.file(file, "quantization_config.quant_method '" + method + "' is not supported"
          + " (FP8 checkpoints are: " + String.join(", ", FP8_METHODS) + ")");
    }
    if (q.hasNonNull("weight_block_size")) {
      throw CheckpointException.file(file, "quantization_config.weight_block_size " + q.get("weight_block_size")
          + ": block-wise FP8 scales are not supported (per-tensor and per-channel ones are)");
    }
    return method;
  }

  public int qSize() {
    return numAttentionHeads * headDim;
  }

  public int kvSize() {
    return numKeyValueHeads * headDim;
  }

  private static int positive(Path file, JsonNode c, String key, Integer fallback) {
    JsonNode v = c.get(key);
    if (v == null || v.isNull()) {
      if (fallback == null) throw CheckpointException.file(file, key + " is missing");
      return fallback;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() <= 0) {
      throw CheckpointException.file(file, key + " = " + v + " is not a positive integer");
    }
    return v.intValue();
  }

  private static double number(Path file, JsonNode c, String key, double fallback) {
    JsonNode v = c.get(key);
    if (v == null || v.isNull()) return fallback;
    if (!v.isNumber() || !(v.doubleValue() > 0) || !Double.isFinite(v.doubleValue())) {
      throw CheckpointException.file(file, key + " = " + v + " is not a positive number");
    }
    return v.doubleValue();
  }

  private static boolean bool(Path file, JsonNode c, String key, boolean fallback) {
    JsonNode v = c.get(key);
    if (v == null || v.isNull()) return fallback;
    if (!v.isBoolean()) throw CheckpointException.file(file, key + " = " + v + " is not true or false");
    return v.booleanValue();
  }

  private static String text(Path file, JsonNode c, String key, String fallback) {
    JsonNode v = c.get(key);
    if (v == null || v.isNull()) return fallback;
    if (!v.isTextual()) throw CheckpointException.file(file, key + " = " + v + " is not a string");
    return v.textValue();
  }
}
