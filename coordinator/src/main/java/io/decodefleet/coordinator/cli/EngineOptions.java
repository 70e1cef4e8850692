package io.decodefleet.coordinator.cli;

import io.decodefleet.agent.LocalDevices;
import io.decodefleet.agent.backend.cuda.CudaSettings;
import io.decodefleet.agent.backend.cuda.DecodePath;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.MoeRouterPolicy;
import picocli.CommandLine.Option;

/** The model every agent loads and how its engine runs it. */
final class EngineOptions {
  @Option(names = "--model", description = "Model preset (tiny, llama3-1b, llama3-8b, llama3-70b, qwen2.5-7b) or a "
      + "Hugging Face model directory (config.json of a Llama, Mistral or Qwen2 model and model.safetensors or "
      + "sharded model-*.safetensors with their index; agents read it from a file system they share) (default: "
      + "${DEFAULT-VALUE}; the CPU backend runs tiny). With --endpoint: the model whose vocabulary and context bound "
      + "the prompts' token ids.")
  String model = "tiny";

  @Option(names = "--load-format", description = "Where the weights come from: auto (a preset's dummy weights, a "
      + "directory's safetensors), dummy (hashed from --seed, with a directory's config) or safetensors (default: "
      + "${DEFAULT-VALUE}).")
  String loadFormat = "auto";

  @Option(names = "--quantization", description = "none, fp8 or fp8-dynamic: fp8 quantizes the projections' weights"
      + " to FP8 e4m3 with one scale per tensor at load (an FP8 checkpoint's weights are FP8 either way);"
      + " fp8-dynamic also quantizes each projection's activations to FP8 per token as it runs, so the GEMMs"
      + " are FP8 x FP8 (dense models) (default: ${DEFAULT-VALUE}).")
  String quantization = "none";

  @Option(names = "--kv-cache-dtype", description = "auto (the backend's own: float32 on CPU agents, bf16 on CUDA "
      + "ones) or fp8 (e4m3 with a scale per layer, the checkpoint's k_scale/v_scale or 1; CPU agents only) "
      + "(default: ${DEFAULT-VALUE}).")
  String kvCacheDtype = "auto";

  @Option(names = "--moe-router", paramLabel = "POLICY", description = "A mixture of experts' routing: topk (every "
      + "expert takes every token routed to it) or capacity:F (each expert takes at most ceil(F * tokens * k / experts)"
      + " of a step's tokens, the rest dropped from it and counted, as GShard and Switch do) (default: "
      + "${DEFAULT-VALUE}).")
  String moeRouter = "topk";

  @Option(names = "--block-size", description = "KV block size in tokens (default: ${DEFAULT-VALUE}).")
  int blockSize = 16;

  @Option(names = "--kv-blocks", description = "KV blocks per agent; 0 sizes the pool from memory (default: ${DEFAULT-VALUE}).")
  int kvBlocks = 0;

  @Option(names = "--max-num-seqs", description = "Most sequences an agent runs at once (default: the backend's, 256 on "
      + "CUDA agents, 64 on CPU agents).")
  Integer maxNumSeqs;

  @Option(names = "--max-batched-tokens", description = "Token budget of one engine step (default: the backend's, 8192 "
      + "on CUDA agents, 512 on CPU agents).")
  Integer maxBatchedTokens;

  @Option(names = "--backend", description = "Backend of the embedded agents: auto (CUDA, one agent per GPU, when the "
      + "world size is at most the local GPU count; else CPU), cpu or cuda (default: ${DEFAULT-VALUE}).")
  String backend = "auto";

  @Option(names = "--decode-path", description = "How CUDA agents run decode steps: eager, graph, persistent or "
      + "persistent+graph (default: ${DEFAULT-VALUE}).")
  String decodePath = "persistent+graph";

  @Option(names = "--gemm", description = "GEMMs of the projections on CUDA agents: auto (the fastest of ours and "
      + "cuBLASLt per shape, timed at model load), ours, cublaslt or skinny2 (our second skinny GEMM wherever it "
      + "applies) (default: ${DEFAULT-VALUE}).")
  String gemm = "auto";

  @Option(names = "--gpu-memory-fraction", description = "Share of each GPU's memory a CUDA agent may use, weights "
      + "and KV cache together (default: ${DEFAULT-VALUE}).")
  double gpuMemoryFraction = CudaSettings.DEFAULT_GPU_MEMORY_FRACTION;

  @Option(names = "--enable-prefix-caching", negatable = true, description = "Cache full KV blocks by content and "
      + "share them between sequences with the same prefix (default: on for CUDA agents, off for CPU ones; "
      + "--no-enable-prefix-caching turns it off).")
  Boolean prefixCaching;

  @Option(names = "--profile-steps", paramLabel = "N", description = "Time every kernel family (attention, each GEMM, "
      + "norms, RoPE/KV append, sampling, all-reduce) over each agent's first N decode steps of each run, against its "
      + "floor (bytes / measured copy bandwidth): a table on the console and \"profile\" in report.json. CUDA agents "
      + "run those steps eagerly with events between families (default: 0, none).")
  int profileSteps = 0;

  /** Which backend the embedded agents run and why; a UsageError when the choice cannot be met. */
  LocalDevices.Choice embeddedBackend(int agents) {
    try {
      return LocalDevices.forEmbedded(backend, agents, CudaDevices.discover());
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage());
    }
  }

  /**
   * CUDA agents' settings: graphs up to --max-num-seqs (at most 256), steps up to
   * --max-batched-tokens; where they are not given, the CUDA backend's defaults.
   */
  CudaSettings cudaSettings() {
    try {
      CudaSettings s = CudaSettings.defaults().withDecodePath(DecodePath.parse(decodePath))
          .withGemm(GemmTuner.Policy.parse(gemm)).withGpuMemoryFraction(gpuMemoryFraction);
      if (maxNumSeqs != null) s = s.withMaxGraphBatch(Math.min(maxNumSeqs, 256));
      return maxBatchedTokens == null ? s : s.withMaxStepTokens(Math.max(s.graphBucketLimit(), maxBatchedTokens));
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage());
    }
  }

  /** The model --model names: a preset, or a directory's config.json. */
  ModelConfig config() {
    try {
      return ModelConfig.resolve(modelName());
    } catch (IllegalArgumentException e) {
      throw new UsageError("--model: " + e.getMessage());
    }
  }

  /** --model as agents get it: a preset's name, or the directory's absolute path (they run elsewhere). */
  String modelName() {
    return ModelConfig.isPreset(model) || !java.nio.file.Files.isDirectory(java.nio.file.Path.of(model)) ? model
        : java.nio.file.Path.of(model).toAbsolutePath().normalize().toString();
  }

  /**
   * --load-format, --quantization and --kv-cache-dtype; a safetensors checkpoint has every header
   * checked against its config.json here, so that a bad one stops the command before any agent starts.
   */
  private ModelSpec weights(ModelSpec spec) {
    boolean preset = ModelConfig.isPreset(spec.model());
    ModelSpec.LoadFormat format = switch (loadFormat) {
      case "auto" -> preset ? ModelSpec.LoadFormat.DUMMY : ModelSpec.LoadFormat.SAFETENSORS;
      case "dummy" -> ModelSpec.LoadFormat.DUMMY;
      case "safetensors" -> ModelSpec.LoadFormat.SAFETENSORS;
      default -> throw new UsageError("--load-format must be auto, dummy or safetensors, got '" + loadFormat + "'");
    };
    if (format == ModelSpec.LoadFormat.SAFETENSORS && preset) {
      throw new UsageError("--load-format safetensors needs --model DIR; " + spec.model() + " is a preset with dummy "
          + "weights");
    }
    ModelSpec.Quantization quant = switch (quantization) {
      case "none" -> ModelSpec.Quantization.NONE;
      case "fp8" -> ModelSpec.Quantization.FP8;
      case "fp8-dynamic" -> ModelSpec.Quantization.FP8_DYNAMIC;
      default -> throw new UsageError("--quantization must be none, fp8 or fp8-dynamic, got '" + quantization + "'");
    };
    ModelSpec.KvCacheDtype kv = switch (kvCacheDtype) {
      case "auto" -> ModelSpec.KvCacheDtype.AUTO;
      case "fp8", "fp8_e4m3" -> ModelSpec.KvCacheDtype.FP8;
      default -> throw new UsageError("--kv-cache-dtype must be auto or fp8, got '" + kvCacheDtype + "'");
    };
    ModelSpec out = spec.withWeights(format, quant, kv);
    if (format == ModelSpec.LoadFormat.SAFETENSORS) {
      try {
        ModelLoad.of(out);
      } catch (IllegalArgumentException e) {
        throw new UsageError("--model: " + e.getMessage());
      }
    }
    return out;
  }

  /** @param verifyFraction 0 for no recompute check */
  ModelSpec spec(long seed, double verifyFraction) {
    ModelConfig config = config();
    if (blockSize < 1 || blockSize > 1024) throw new UsageError("--block-size must be in 1..1024, got " + blockSize);
    if (kvBlocks < 0) throw new UsageError("--kv-blocks must be >= 0, got " + kvBlocks);
    if (maxNumSeqs != null && maxNumSeqs < 1) throw new UsageError("--max-num-seqs must be >= 1, got " + maxNumSeqs);
    if (maxBatchedTokens != null && maxBatchedTokens < 1) {
      throw new UsageError("--max-batched-tokens must be >= 1, got " + maxBatchedTokens);
    }
    if (!java.util.List.of("auto", "cpu", "cuda").contains(backend)) {
      throw new UsageError("--backend must be auto, cpu or cuda, got '" + backend + "'");
    }
    if (profileSteps < 0) throw new UsageError("--profile-steps must be >= 0, got " + profileSteps);
    cudaSettings();
    MoeRouterPolicy router;
    try {
      router = MoeRouterPolicy.parse(moeRouter);
    } catch (IllegalArgumentException e) {
      throw new UsageError("--moe-router " + e.getMessage());
    }
    if (router.capacityBounded() && !config.isMoe()) {
      throw new UsageError("--moe-router " + router.label() + " applies to mixture-of-experts models, and "
          + config.name() + " is dense");
    }
    if (router.capacityBounded() && verifyFraction > 0) {
      throw new UsageError("--verify checks each sequence against its recompute alone, and --moe-router "
          + router.label() + " drops tokens by what else is in the batch: verify with --moe-router topk");
    }
    // 0: each agent's backend chooses (ModelSpec), as kv_blocks 0 sizes the pool from memory.
    return weights(new ModelSpec(config.name(), seed, blockSize, kvBlocks, maxNumSeqs == null ? 0 : maxNumSeqs,
        maxBatchedTokens == null ? 0 : maxBatchedTokens, verifyFraction, prefixCaching == null
            ? ModelSpec.PrefixCaching.AUTO : prefixCaching ? ModelSpec.PrefixCaching.ON : ModelSpec.PrefixCaching.OFF,
        profileSteps).withMoeRouter(router));
  }
}
