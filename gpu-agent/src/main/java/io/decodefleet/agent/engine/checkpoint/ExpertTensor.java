package io.decodefleet.agent.engine.checkpoint;

/**
 * The tensors of a mixture-of-experts layer, by their Hugging Face names, which differ by
 * architecture: Mixtral's {@code block_sparse_moe.gate} and {@code block_sparse_moe.experts.N.w1}
 * (gate), {@code w3} (up), {@code w2} (down); Qwen3-MoE's {@code mlp.gate} and {@code
 * mlp.experts.N.gate_proj}, {@code up_proj}, {@code down_proj}. Shapes as {@code nn.Linear} stores them.
 */
public enum ExpertTensor {
  ROUTER("gate", "gate", false),
  GATE("w1", "gate_proj", true),
  UP("w3", "up_proj", true),
  DOWN("w2", "down_proj", true);

  private final String mixtral;
  private final String qwen3;
  private final boolean perExpert;

  ExpertTensor(String mixtral, String qwen3, boolean perExpert) {
    this.mixtral = mixtral;
    this.qwen3 = qwen3;
    this.perExpert = perExpert;
  }

  /** Whether there is one per expert (the router is one per layer). */
  public boolean perExpert() {
    return perExpert;
  }

  /** Its name in a checkpoint of {@code architecture}; {@code expert} is ignored for the router. */
  public String name(String architecture, int layer, int expert) {
    boolean mixtral = architecture.equals(HfConfig.MIXTRAL);
    String block = "model.layers." + layer + (mixtral ? ".block_sparse_moe." : ".mlp.");
    if (!perExpert) return block + "gate.weight";
    return block + "experts." + expert + "." + (mixtral ? this.mixtral : qwen3) + ".weight";
  }

  /** Its shape under {@code c}: the router (experts, hidden), gate and up (width, hidden), down (hidden, width). */
  public long[] shape(HfConfig c) {
    return switch (this) {
      case ROUTER -> new long[] {c.numExperts(), c.hiddenSize()};
      case GATE, UP -> new long[] {c.moeIntermediateSize(), c.hiddenSize()};
      case DOWN -> new long[] {c.hiddenSize(), c.moeIntermediateSize()};
    };
  }
}
