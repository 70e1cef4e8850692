package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.checkpoint.CheckpointException;
import io.decodefleet.agent.engine.checkpoint.HfConfig;
import io.decodefleet.agent.engine.checkpoint.RopeScaling;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Llama-family decoder described with the field names of a Hugging Face {@code config.json}
 * (hidden_size, intermediate_size, num_attention_heads, num_key_value_heads, num_hidden_layers,
 * vocab_size, rope_theta, rms_norm_eps, head_dim, max_position_embeddings, tie_word_embeddings), and
 * whether q, k and v carry biases (Qwen2's attention_bias). A preset, or read from a model
 * directory's config.json ({@link #resolve}).
 *
 * @param name the preset's name, or the model directory's path
 * @param qkNorm each query and key head is RMS-normed over head_dim (a weight of head_dim shared by
 *     the heads) before RoPE, as Qwen3 does
 * @param moe the sparse MLP of a mixture-of-experts model (every layer's), or null for a dense one
 *     (whose MLP is intermediate_size wide)
 * @param ropeScaling Llama 3.1's RoPE frequency scaling, or null for plain RoPE
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
    boolean tieWordEmbeddings,
    boolean attentionBias,
    boolean qkNorm,
    MoeConfig moe,
    RopeScaling ropeScaling) {

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

  /** With plain RoPE. */
  public ModelConfig(String name, int hiddenSize, int intermediateSize, int numAttentionHeads, int numKeyValueHeads,
      int numHiddenLayers, int vocabSize, double ropeTheta, float rmsNormEps, int headDim, int maxPositionEmbeddings,
      boolean tieWordEmbeddings, boolean attentionBias, boolean qkNorm, MoeConfig moe) {
    this(name, hiddenSize, intermediateSize, numAttentionHeads, numKeyValueHeads, numHiddenLayers, vocabSize,
        ropeTheta, rmsNormEps, headDim, maxPositionEmbeddings, tieWordEmbeddings, attentionBias, qkNorm, moe, null);
  }

  /** A dense model without q/k norms. */
  public ModelConfig(String name, int hiddenSize, int intermediateSize, int numAttentionHeads, int numKeyValueHeads,
      int numHiddenLayers, int vocabSize, double ropeTheta, float rmsNormEps, int headDim, int maxPositionEmbeddings,
      boolean tieWordEmbeddings, boolean attentionBias) {
    this(name, hiddenSize, intermediateSize, numAttentionHeads, numKeyValueHeads, numHiddenLayers, vocabSize,
        ropeTheta, rmsNormEps, headDim, maxPositionEmbeddings, tieWordEmbeddings, attentionBias, false, null);
  }

  /** A model without attention biases (every dense preset). */
  public ModelConfig(String name, int hiddenSize, int intermediateSize, int numAttentionHeads, int numKeyValueHeads,
      int numHiddenLayers, int vocabSize, double ropeTheta, float rmsNormEps, int headDim, int maxPositionEmbeddings,
      boolean tieWordEmbeddings) {
    this(name, hiddenSize, intermediateSize, numAttentionHeads, numKeyValueHeads, numHiddenLayers, vocabSize,
        ropeTheta, rmsNormEps, headDim, maxPositionEmbeddings, tieWordEmbeddings, false);
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
    // tiny with Qwen2's attention biases (q, k and v projections): the CUDA backend's bias parity model.
    register(new ModelConfig("tiny-qwen2", 128, 384, 4, 2, 4, 1024, 1000000.0, 1e-6f, 32, 2048, false, true));
    register(new ModelConfig("qwen2.5-7b", 3584, 18944, 28, 4, 28, 152064, 1000000.0, 1e-6f, 128, 32768, false));
    // Mixture-of-experts: tiny's attention with 8 experts of width 96, two per token (Mixtral's routing),
    // small enough that the tests decode it in seconds.
    register(new ModelConfig("tiny-moe", 128, 96, 4, 2, 4, 1024, 10000.0, 1e-5f, 32, 2048, false, false, false,
        new MoeConfig(8, 2, 96, true)));
    register(new ModelConfig("mixtral-8x7b", 4096, 14336, 32, 8, 32, 32000, 1000000.0, 1e-5f, 128, 32768, false,
        false, false, new MoeConfig(8, 2, 14336, true)));
    // Mixtral-8x7B's first 4 layers (11 GB of bf16 experts): one GPU and an expert-parallel pair both hold it,
    // so `gpu-agent bench tp --expert-parallel 2` can time EP=2 against one GPU.
    register(new ModelConfig("mixtral-8x7b-4l", 4096, 14336, 32, 8, 4, 32000, 1000000.0, 1e-5f, 128, 32768, false,
        false, false, new MoeConfig(8, 2, 14336, true)));
    // Qwen3's attention in small (q/k norms, head_dim 64 so the query width is 4x hidden, GQA 4), dense
    // and with tiny-moe's experts: the CUDA backend's q/k-norm parity models, decoded by the CPU in seconds.
    register(new ModelConfig("tiny-qwen3", 128, 384, 8, 2, 4, 1024, 1000000.0, 1e-6f, 64, 2048, false, false, true,
        null));
    register(new ModelConfig("tiny-qwen3-moe", 128, 96, 8, 2, 4, 1024, 1000000.0, 1e-6f, 64, 2048, false, false,
        true, new MoeConfig(8, 2, 96, true)));
    register(new ModelConfig("qwen3-30b-a3b", 2048, 6144, 32, 4, 48, 151936, 1000000.0, 1e-6f, 128, 40960, false,
        false, true, new MoeConfig(128, 8, 768, true)));
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

  /** Model directories already read, by path: a process reads a config.json once. */
  private static final Map<String, ModelConfig> READ = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The preset named {@code model}, else the model in directory {@code model} (its config.json), else
   * an IllegalArgumentException naming both. A preset's name wins over a directory of that name
   * ({@code ./tiny} names the directory).
   */
  public static ModelConfig resolve(String model) {
    ModelConfig preset = PRESETS.get(model.toLowerCase(Locale.ROOT));
    if (preset != null) return preset;
    ModelConfig read = READ.get(model);
    if (read != null) return read;
    if (!java.nio.file.Files.isDirectory(java.nio.file.Path.of(model))) {
      throw new IllegalArgumentException("unknown model '" + model + "': neither a preset (" + String.join(", ",
          PRESETS.keySet()) + ") nor a model directory");
    }
    ModelConfig config = of(HfConfig.read(java.nio.file.Path.of(model, "config.json")), model);
    READ.put(model, config);
    return config;
  }

  /** Whether {@code model} names a preset rather than a directory. */
  public static boolean isPreset(String model) {
    return PRESETS.containsKey(model.toLowerCase(Locale.ROOT));
  }

  /** The model a checkpoint's config.json describes, named {@code name}. */
  public static ModelConfig of(HfConfig c, String name) {
    try {
      return new ModelConfig(name, c.hiddenSize(), c.intermediateSize(), c.numAttentionHeads(), c.numKeyValueHeads(),
          c.numHiddenLayers(), c.vocabSize(), c.ropeTheta(), c.rmsNormEps(), c.headDim(), c.maxPositionEmbeddings(),
          c.tieWordEmbeddings(), c.attentionBias(), c.qkNorm(), c.numExperts() == 0 ? null
              : new MoeConfig(c.numExperts(), c.expertsPerToken(), c.moeIntermediateSize(), c.normTopkProb()),
          c.ropeScaling());
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(c.file() + ": " + e.getMessage());
    }
  }

  /** The RoPE frequencies of a head (headDim/2 of them, in double): plain, or scaled by {@link #ropeScaling}. */
  public double[] ropeFrequencies() {
    return ropeScaling == null ? io.decodefleet.kernels.reference.Rope.frequencies(headDim, ropeTheta)
        : ropeScaling.frequencies(headDim, ropeTheta);
  }

  public int qSize() {
    return numAttentionHeads * headDim;
  }

  public int kvSize() {
    return numKeyValueHeads * headDim;
  }

  /** Whether the MLP is a mixture of experts. */
  public boolean isMoe() {
    return moe != null;
  }

  /** Parameters in the weights (embedding, layers, final norm, head unless tied). */
  public long parameterCount() {
    return parameters(moe == null ? 3L * hiddenSize * intermediateSize : moe.parametersPerLayer(hiddenSize));
  }

  /** Parameters one token reads: an MoE model's router and top-k experts only; all of a dense one's. */
  public long activeParameterCount() {
    return parameters(moe == null ? 3L * hiddenSize * intermediateSize : moe.activeParametersPerLayer(hiddenSize));
  }

  private long parameters(long mlpPerLayer) {
    long perLayer = (long) hiddenSize * (qSize() + 2L * kvSize()) // q, k, v
        + (long) qSize() * hiddenSize // o
        + mlpPerLayer // gate, up, down (of every expert, and the router)
        + 2L * hiddenSize // two norms
        + (qkNorm ? 2L * headDim : 0)
        + (attentionBias ? qSize() + 2L * kvSize() : 0);
    long embed = (long) vocabSize * hiddenSize;
    return embed + numHiddenLayers * perLayer + hiddenSize + (tieWordEmbeddings ? 0 : embed);
  }

  /** KV-cache bytes per token for a given element size (both K and V, every layer). */
  public long kvBytesPerToken(int bytesPerElement) {
    return 2L * numHiddenLayers * kvSize() * bytesPerElement;
  }
}
