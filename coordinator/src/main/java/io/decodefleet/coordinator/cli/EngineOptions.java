package io.decodefleet.coordinator.cli;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.protocol.ModelSpec;
import picocli.CommandLine.Option;

/** The model every agent loads and how its engine runs it. */
final class EngineOptions {
  @Option(names = "--model", description = "Model preset: tiny, llama3-1b, llama3-8b, llama3-70b, qwen2.5-7b "
      + "(default: ${DEFAULT-VALUE}; the CPU backend runs tiny).")
  String model = "tiny";

  @Option(names = "--block-size", description = "KV block size in tokens (default: ${DEFAULT-VALUE}).")
  int blockSize = 16;

  @Option(names = "--kv-blocks", description = "KV blocks per agent; 0 sizes the pool from memory (default: ${DEFAULT-VALUE}).")
  int kvBlocks = 0;

  @Option(names = "--max-num-seqs", description = "Most sequences an agent runs at once (default: ${DEFAULT-VALUE}).")
  int maxNumSeqs = 64;

  @Option(names = "--max-batched-tokens", description = "Token budget of one engine step (default: ${DEFAULT-VALUE}).")
  int maxBatchedTokens = 512;

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
    if (maxNumSeqs < 1) throw new UsageError("--max-num-seqs must be >= 1, got " + maxNumSeqs);
    if (maxBatchedTokens < 1) throw new UsageError("--max-batched-tokens must be >= 1, got " + maxBatchedTokens);
    return new ModelSpec(config.name(), seed, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, verifyFraction);
  }
}
