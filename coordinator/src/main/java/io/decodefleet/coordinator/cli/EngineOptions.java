package io.decodefleet.coordinator.cli;

import io.decodefleet.agent.LocalDevices;
import io.decodefleet.agent.backend.cuda.CudaSettings;
import io.decodefleet.agent.backend.cuda.DecodePath;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import picocli.CommandLine.Option;

/** The model every agent loads and how its engine runs it. */
final class EngineOptions {
  @Option(names = "--model", description = "Model preset: tiny, llama3-1b, llama3-8b, llama3-70b, qwen2.5-7b "
      + "(default: ${DEFAULT-VALUE}; the CPU backend runs tiny). With --endpoint: the preset whose vocabulary and "
      + "context bound the prompts' token ids.")
  String model = "tiny";

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
      + "cuBLASLt per shape, timed at model load), ours or cublaslt (default: ${DEFAULT-VALUE}).")
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

  ModelConfig config() {
    try {
      return ModelConfig.preset(model);
    } catch (IllegalArgumentException e) {
      throw new UsageError("--model: " + e.getMessage());
    }
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
    // 0: each agent's backend chooses (ModelSpec), as kv_blocks 0 sizes the pool from memory.
    return new ModelSpec(config.name(), seed, blockSize, kvBlocks, maxNumSeqs == null ? 0 : maxNumSeqs,
        maxBatchedTokens == null ? 0 : maxBatchedTokens, verifyFraction, prefixCaching == null
            ? ModelSpec.PrefixCaching.AUTO : prefixCaching ? ModelSpec.PrefixCaching.ON : ModelSpec.PrefixCaching.OFF,
        profileSteps);
  }
}
