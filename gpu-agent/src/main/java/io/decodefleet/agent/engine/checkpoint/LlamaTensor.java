package io.decodefleet.agent.engine.checkpoint;

/**
 * The tensors of a Llama-family checkpoint, by their Hugging Face names, with the shape each has
 * under a config: (out_features, in_features) for a projection, as {@code nn.Linear} stores it. A
 * mixture of experts has no dense MLP: its router and experts are {@link ExpertTensor}s.
 */
public enum LlamaTensor {
  EMBED_TOKENS("model.embed_tokens.weight", false, false),
  Q_PROJ("self_attn.q_proj.weight", true, true),
  K_PROJ("self_attn.k_proj.weight", true, true),
  V_PROJ("self_attn.v_proj.weight", true, true),
  O_PROJ("self_attn.o_proj.weight", true, true),
  GATE_PROJ("mlp.gate_proj.weight", true, true),
  UP_PROJ("mlp.up_proj.weight", true, true),
  DOWN_PROJ("mlp.down_proj.weight", true, true),
  INPUT_LAYERNORM("input_layernorm.weight", true, false),
  POST_ATTENTION_LAYERNORM("post_attention_layernorm.weight", true, false),
  NORM("model.norm.weight", false, false),
  LM_HEAD("lm_head.weight", false, true),
  Q_BIAS("self_attn.q_proj.bias", true, false),
  K_BIAS("self_attn.k_proj.bias", true, false),
  V_BIAS("self_attn.v_proj.bias", true, false),
  Q_NORM("self_attn.q_norm.weight", true, false),
  K_NORM("self_attn.k_norm.weight", true, false);

  private final String suffix;
  private final boolean perLayer;
  private final boolean linear;

  LlamaTensor(String suffix, boolean perLayer, boolean linear) {
    this.suffix = suffix;
    this.perLayer = perLayer;
    this.linear = linear;
  }

  /** Whether there is one per decoder layer ({@code model.layers.N.…}). */
  public boolean perLayer() {
    return perLayer;
  }

  /** Whether it is a projection's weight, which a checkpoint may store in FP8 with a scale. */
  public boolean linear() {
    return linear;
  }

  /** Its name in a checkpoint; {@code layer} is ignored for a tensor that is not per layer. */
  public String name(int layer) {
    return perLayer ? "model.layers." + layer + "." + suffix : suffix;
  }

  /** Whether a checkpoint with this config holds it (biases only with attention_bias, the head only untied). */
  public boolean presentIn(HfConfig c) {
    return switch (this) {
      case Q_BIAS, K_BIAS, V_BIAS -> c.attentionBias();
      case Q_NORM, K_NORM -> c.qkNorm();
      case GATE_PROJ, UP_PROJ, DOWN_PROJ -> !c.moe();
      case LM_HEAD -> !c.tieWordEmbeddings();
      default -> true;
    };
  }

  /** Its shape under {@code c}. */
  public long[] shape(HfConfig c) {
    long h = c.hiddenSize();
    long inter = c.intermediateSize();
    long q = c.qSize();
    long kv = c.kvSize();
    return switch (this) {
      case EMBED_TOKENS, LM_HEAD -> new long[] {c.vocabSize(), h};
      case Q_PROJ -> new long[] {q, h};
      case K_PROJ, V_PROJ -> new long[] {kv, h};
      case O_PROJ -> new long[] {h, q};
      case GATE_PROJ, UP_PROJ -> new long[] {inter, h};
      case DOWN_PROJ -> new long[] {h, inter};
      case INPUT_LAYERNORM, POST_ATTENTION_LAYERNORM, NORM -> new long[] {h};
      case Q_BIAS -> new long[] {q};
      case K_BIAS, V_BIAS -> new long[] {kv};
      case Q_NORM, K_NORM -> new long[] {c.headDim()};
    };
  }
}
