package io.decodefleet.agent.engine;

/**
 * What an agent loads and how its engine runs it, as the engine takes it and the wire carries it
 * (LoadModel).
 *
 * @param model a preset's name (see ModelConfig.presetNames()), or the absolute path of a Hugging Face model
 *     directory (config.json and safetensors), which every agent reads from a file system they share
 * @param seed dummy-weight seed
 * @param blockSize KV block size in tokens
 * @param kvBlocks KV pool size in blocks; 0 sizes it from the backend's memory
 * @param maxNumSeqs continuous-batching cap; 0 takes the backend's default ({@link Backend#defaultMaxNumSeqs})
 * @param maxBatchedTokens per-step token budget; 0 takes the backend's default ({@link
 *     Backend#defaultMaxBatchedTokens})
 * @param verifyFraction fraction of sequences checked against a full recompute (0 = off)
 * @param prefixCaching whether full KV blocks are cached by content and shared between sequences
 *     (AUTO: the backend's default, {@link Backend#defaultPrefixCaching})
 * @param profileSteps decode steps to run with every kernel family timed ({@link StepProfile}) at the
 *     start of each busy spell (the engine's work after it was idle, e.g. each benchmark run); 0: none
 * @param loadFormat where the weights come from: the dummy hash of {@code seed}, or the safetensors
 *     of the model directory
 * @param quantization FP8 and FP8_DYNAMIC: the projections' weights are quantized to e4m3 with a scale per
 *     tensor at load (weights that a checkpoint stores in FP8 are FP8 whatever this says); FP8_DYNAMIC
 *     quantizes every projection's activations per token at run time too
 * @param kvCacheDtype the KV cache's element type: the backend's own (AUTO) or FP8 e4m3 with a scale
 * @param moeRouter how a mixture of experts routes its tokens (plain top-k, or capacity-bounded); plain
 *     top-k for a dense model, which refuses any other
 */
public record ModelSpec(String model, long seed, int blockSize, int kvBlocks, int maxNumSeqs, int maxBatchedTokens,
    double verifyFraction, PrefixCaching prefixCaching, int profileSteps, LoadFormat loadFormat,
    Quantization quantization, KvCacheDtype kvCacheDtype, MoeRouterPolicy moeRouter) {

  /** Automatic prefix caching: on, off, or as the backend chooses. */
  public enum PrefixCaching { AUTO, ON, OFF }

  /** Where the weights come from (vLLM's --load-format). */
  public enum LoadFormat { DUMMY, SAFETENSORS }

  /**
   * How the projections' weights are held (vLLM's --quantization): as loaded; FP8 e4m3 with bf16 activations
   * (weight-only); or FP8 e4m3 with each projection's activations quantized to FP8 per token at run time
   * ({@code fp8-dynamic}, the FP8_DYNAMIC scheme of compressed-tensors checkpoints), so that both GEMM operands
   * are FP8.
   */
  public enum Quantization {
    NONE, FP8, FP8_DYNAMIC;

    /** Whether the projections are held in FP8 whatever the checkpoint stores. */
    public boolean fp8Weights() {
      return this != NONE;
    }
  }

  /** The KV cache's element type (vLLM's --kv-cache-dtype). */
  public enum KvCacheDtype { AUTO, FP8 }

  public ModelSpec {
    if (profileSteps < 0) throw new IllegalArgumentException("profile steps must be >= 0, got " + profileSteps);
    java.util.Objects.requireNonNull(loadFormat, "loadFormat");
    java.util.Objects.requireNonNull(quantization, "quantization");
    java.util.Objects.requireNonNull(kvCacheDtype, "kvCacheDtype");
    java.util.Objects.requireNonNull(moeRouter, "moeRouter");
  }

  /** A spec with plain top-k routing. */
  public ModelSpec(String model, long seed, int blockSize, int kvBlocks, int maxNumSeqs, int maxBatchedTokens,
      double verifyFraction, PrefixCaching prefixCaching, int profileSteps, LoadFormat loadFormat,
      Quantization quantization, KvCacheDtype kvCacheDtype) {
    this(model, seed, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, verifyFraction, prefixCaching, profileSteps,
        loadFormat, quantization, kvCacheDtype, MoeRouterPolicy.TOP_K);
  }

  /** A spec of dummy weights, unquantized, with the backend's own KV cache type. */
  public ModelSpec(String model, long seed, int blockSize, int kvBlocks, int maxNumSeqs, int maxBatchedTokens,
      double verifyFraction, PrefixCaching prefixCaching, int profileSteps) {
    this(model, seed, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, verifyFraction, prefixCaching, profileSteps,
        LoadFormat.DUMMY, Quantization.NONE, KvCacheDtype.AUTO);
  }

  /** A spec that profiles no step. */
  public ModelSpec(String model, long seed, int blockSize, int kvBlocks, int maxNumSeqs, int maxBatchedTokens,
      double verifyFraction, PrefixCaching prefixCaching) {
    this(model, seed, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, verifyFraction, prefixCaching, 0);
  }

  /** A spec that leaves prefix caching to the backend. */
  public ModelSpec(String model, long seed, int blockSize, int kvBlocks, int maxNumSeqs, int maxBatchedTokens,
      double verifyFraction) {
    this(model, seed, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, verifyFraction, PrefixCaching.AUTO);
  }

  /** The same spec with prefix caching set. */
  public ModelSpec withPrefixCaching(PrefixCaching caching) {
    return new ModelSpec(model, seed, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, verifyFraction, caching,
        profileSteps, loadFormat, quantization, kvCacheDtype, moeRouter);
  }

  /** The same spec, profiling {@code steps} decode steps of each busy spell. */
  public ModelSpec withProfileSteps(int steps) {
    return new ModelSpec(model, seed, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, verifyFraction, prefixCaching,
        steps, loadFormat, quantization, kvCacheDtype, moeRouter);
  }

  /** The same spec with its weights' source and precision and its KV cache's type set. */
  public ModelSpec withWeights(LoadFormat format, Quantization quant, KvCacheDtype kvDtype) {
    return new ModelSpec(model, seed, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, verifyFraction, prefixCaching,
        profileSteps, format, quant, kvDtype, moeRouter);
  }

  /** The same spec with its mixture of experts' routing set. */
  public ModelSpec withMoeRouter(MoeRouterPolicy router) {
    return new ModelSpec(model, seed, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, verifyFraction, prefixCaching,
        profileSteps, loadFormat, quantization, kvCacheDtype, router);
  }
}
