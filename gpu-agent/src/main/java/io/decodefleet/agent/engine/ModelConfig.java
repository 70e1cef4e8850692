package io.decodefleet.agent.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Llama-family decoder described with the field names of a Hugging Face {@code config.json}
 * (hidden_size, intermediate_size, num_attention_heads, num_key_value_heads, num_hidden_layers,
 * vocab_size, rope_theta, rms_norm_eps, head_dim, max_position_embeddings, tie_word_embeddings).
 */
public record ModelConfig(
    String name,
    int hiddenSize,
    int intermediateSize,
    int numAttentionHeads,
    int numKeyValueHeads,
    int numHiddenLayers,
    int vocabSize,
    double ropeTheta,
    float rmsNormEps,
    int headDim,
    int maxPositionEmbeddings,
    boolean tieWordEmbeddings) {

  public ModelConfig {
    List<String> problems = new ArrayList<>();
    if (hiddenSize <= 0) problems.add("hidden_size must be > 0");
    if (intermediateSize <= 0) problems.add("intermediate_size must be > 0");
    if (numAttentionHeads <= 0) problems.add("num_attention_heads must be > 0");
    if (numKeyValueHeads <= 0 || numAttentionHeads % Math.max(1, numKeyValueHeads) != 0) {
      problems.add("num_key_value_heads must divide num_attention_heads");
    }
    if (numHiddenLayers <= 0) problems.add("num_hidden_layers must be > 0");
    if (vocabSize <= 0) problems.add("vocab_size must be > 0");
    if (headDim <= 0 || headDim % 2 != 0) problems.add("head_dim must be even and > 0");
    if (maxPositionEmbeddings <= 0) problems.add("max_position_embeddings must be > 0");
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("model " + name + ": " + String.join("; ", problems));
    }
  }

  /** The models that can be named with {@code --model}. */
  private static final Map<String, ModelConfig> PRESETS = new TreeMap<>();

  static {
    // Small enough that eight CPU agents decode a 64-request workload in seconds on two cores.
    register(new ModelConfig("tiny", 128, 384, 4, 2, 4, 1024, 10000.0, 1e-5f, 32, 2048, false));
    register(new ModelConfig("llama3-1b", 2048, 8192, 32, 8, 16, 128256, 500000.0, 1e-5f, 64, 131072, true));
    register(new ModelConfig("llama3-8b", 4096, 14336, 32, 8, 32, 128256, 500000.0, 1e-5f, 128, 131072, false));
    // Llama-3-8B width with 2 of its 32 layers: the CUDA backend's parity model, small enough for
    // the CPU reference (about 6 GB of float32 weights: run the JVM with -Xmx16g or more).
    register(new ModelConfig("llama3-8b-2l", 4096, 14336, 32, 8, 2, 128256, 500000.0, 1e-5f, 128, 131072, false));
    register(new ModelConfig("llama3-70b", 8192, 28672, 64, 8, 80, 128256, 500000.0, 1e-5f, 128, 131072, false));
    register(new ModelConfig("qwen2.5-7b", 3584, 18944, 28, 4, 28, 152064, 1000000.0, 1e-6f, 128, 32768, false));
  }

  private static void register(ModelConfig config) {
    PRESETS.put(config.name(), config);
  }

  public static List<String> presetNames() {
    return List.copyOf(PRESETS.keySet());
  }

  /** The preset of that name, or an IllegalArgumentException listing the known ones. */
  public static ModelConfig preset(String name) {
    ModelConfig config = PRESETS.get(name.toLowerCase(Locale.ROOT));
    if (config == null) {
      throw new IllegalArgumentException(
          "unknown model '" + name + "' (known: " + String.join(", ", PRESETS.keySet()) + ")");
    }
    return config;
  }

  public int qSize() {
    return numAttentionHeads * headDim;
  }

  public int kvSize() {
    return numKeyValueHeads * headDim;
  }

  /** Parameters in the weights (embedding, layers, final norm, head unless tied). */
  public long parameterCount() {
    long perLayer = (long) hiddenSize * (qSize() + 2L * kvSize()) // q, k, v
        + (long) qSize() * hiddenSize // o
        + 3L * hiddenSize * intermediateSize // gate, up, down
        + 2L * hiddenSize; // two norms
    long embed = (long) vocabSize * hiddenSize;
    return embed + numHiddenLayers * perLayer + hiddenSize + (tieWordEmbeddings ? 0 : embed);
  }

  /** KV-cache bytes per token for a given element size (both K and V, every layer). */
  public long kvBytesPerToken(int bytesPerElement) {
    return 2L * numHiddenLayers * kvSize() * bytesPerElement;
  }
}
