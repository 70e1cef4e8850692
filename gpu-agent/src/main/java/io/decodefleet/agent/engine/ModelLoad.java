package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.ModelSpec.KvCacheDtype;
import io.decodefleet.agent.engine.ModelSpec.LoadFormat;
import io.decodefleet.agent.engine.ModelSpec.Quantization;
import io.decodefleet.agent.engine.checkpoint.CheckedCheckpoint;
import java.nio.file.Path;

/**
 * What a backend loads: the model, where its weights come from, whether its projections are
 * quantized to FP8 at load, its KV cache's element type, and how a mixture of experts routes.
 */
public record ModelLoad(ModelConfig config, WeightSource weights, Quantization quantization,
    KvCacheDtype kvCacheDtype, MoeRouterPolicy moeRouter) {

  public ModelLoad {
    java.util.Objects.requireNonNull(config, "config");
    java.util.Objects.requireNonNull(weights, "weights");
    java.util.Objects.requireNonNull(quantization, "quantization");
    java.util.Objects.requireNonNull(kvCacheDtype, "kvCacheDtype");
    java.util.Objects.requireNonNull(moeRouter, "moeRouter");
    if (quantization == Quantization.FP8_DYNAMIC && config.isMoe()) {
      throw new IllegalArgumentException("quantization fp8-dynamic: model " + config.name() + " is a mixture of"
          + " experts, whose experts take bf16 activations only (use --quantization fp8)");
    }
    if (moeRouter.capacityBounded() && !config.isMoe()) {
      throw new IllegalArgumentException("moe router " + moeRouter.label() + ": model " + config.name()
          + " is dense (no experts to route to)");
    }
  }

  /** A load with plain top-k routing. */
  public ModelLoad(ModelConfig config, WeightSource weights, Quantization quantization, KvCacheDtype kvCacheDtype) {
    this(config, weights, quantization, kvCacheDtype, MoeRouterPolicy.TOP_K);
  }

  /** Dummy weights of {@code seed}, unquantized, the backend's own KV cache type. */
  public static ModelLoad dummy(ModelConfig config, long seed) {
    return new ModelLoad(config, new WeightSource.Dummy(seed), Quantization.NONE, KvCacheDtype.AUTO);
  }

  /**
   * The load {@code spec} asks for: a preset or a model directory's config, and for the safetensors
   * format every checkpoint header checked against that config (a CheckpointException, naming the
   * file and tensor, when one does not fit). No weight is read here.
   */
  public static ModelLoad of(ModelSpec spec) {
    if (spec.loadFormat() == LoadFormat.DUMMY) {
      return new ModelLoad(ModelConfig.resolve(spec.model()), new WeightSource.Dummy(spec.seed()), spec.quantization(),
          spec.kvCacheDtype(), spec.moeRouter());
    }
    if (ModelConfig.isPreset(spec.model())) {
      throw new IllegalArgumentException("load format safetensors needs a model directory, and '" + spec.model()
          + "' is a preset (its weights are dummy ones)");
    }
    CheckedCheckpoint checkpoint = CheckedCheckpoint.open(Path.of(spec.model()));
    return new ModelLoad(ModelConfig.of(checkpoint.config(), spec.model()), new WeightSource.Checkpoint(checkpoint),
        spec.quantization(), spec.kvCacheDtype(), spec.moeRouter());
  }

  /** The same load with FP8 quantization and KV cache type set. */
  public ModelLoad with(Quantization quant, KvCacheDtype kvDtype) {
    return new ModelLoad(config, weights, quant, kvDtype, moeRouter);
  }

  /** The same load with its mixture of experts' routing set. */
  public ModelLoad with(MoeRouterPolicy router) {
    return new ModelLoad(config, weights, quantization, kvCacheDtype, router);
  }

  /**
   * Whether every projection's activations are quantized to FP8 per token as it runs (fp8-dynamic): the
   * projections are then all FP8 and each is an FP8 x FP8 GEMM.
   */
  public boolean fp8Activations() {
    return quantization == Quantization.FP8_DYNAMIC;
  }

  /** Whether any projection is held in FP8: quantized at load, or stored so. */
  public boolean fp8Weights() {
    return quantization.fp8Weights()
        || weights instanceof WeightSource.Checkpoint c && c.checkpoint().hasFp8();
  }

  /** e.g. "dummy weights (seed 0)" or "checkpoint /m/x: 1 file, 15 tensors, ... ; FP8 weights; FP8 KV cache". */
  public String describe() {
    String source = weights instanceof WeightSource.Checkpoint c
        ? "checkpoint " + c.checkpoint().directory() + ": " + c.checkpoint().describe()
        : "dummy weights (seed " + ((WeightSource.Dummy) weights).seed() + ")";
    String quant = switch (quantization) {
      case NONE -> "";
      case FP8 -> "; projections quantized to FP8 e4m3 (per-tensor scales)";
      case FP8_DYNAMIC -> "; projections quantized to FP8 e4m3 (per-tensor scales), their activations per token at"
          + " run time";
    };
    String moe = config.isMoe() ? "; " + config.moe().numExperts() + " experts, top-" + config.moe().expertsPerToken()
        + " routing (" + moeRouter.label() + ")" : "";
    return source + quant + (kvCacheDtype == KvCacheDtype.FP8 ? "; FP8 e4m3 KV cache" : "") + moe;
  }
}
