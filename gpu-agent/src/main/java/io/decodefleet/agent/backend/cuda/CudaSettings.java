package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.engine.BatchBuckets;
import java.util.ArrayList;
import java.util.List;

/**
 * How one CUDA backend uses its GPU.
 *
 * @param decodePath how pure decode steps run (see {@link DecodePath})
 * @param gpuMemoryFraction the share of the GPU's total memory this backend may occupy, weights,
 *     workspace, graphs and KV pool together, as vLLM's {@code --gpu-memory-utilization}: the KV
 *     pool gets what remains of {@code fraction * total} after everything else on the device
 * @param maxGraphBatch the largest batch bucket captured as a graph; larger decode steps run
 *     eagerly. Also the most logits rows computed at once
 * @param maxStepTokens the most rows (tokens) one forward pass may have: the activation workspace
 *     is sized for it before the KV pool takes the rest of the memory
 * @param attention which attention kernels run (see {@link AttentionKernels})
 * @param gemm which GEMM implementations the projections may run on (see {@link GemmTuner.Policy})
 * @param sampledGraphs whether sampled pure decode steps replay the decode graphs ({@link #SAMPLED_GRAPHS_ENV})
 */
public record CudaSettings(
    DecodePath decodePath, double gpuMemoryFraction, int maxGraphBatch, int maxStepTokens,
    AttentionKernels attention, GemmTuner.Policy gemm, boolean sampledGraphs) {

  /** Which attention kernels the backend uses. */
  public enum AttentionKernels {
    /**
     * The tensor-core kernels (paged decode attention for decode rows, causal prefill attention
     * for prompts starting at position 0) where the head dim (64, 128), GQA group (at most 16)
     * and block size (a power of two, at most 64) allow; the plain paged kernel otherwise.
     */
    AUTO,
    /** The plain paged kernel for every row: a cross-check of the tensor-core kernels. */
    PAGED
  }

  public static final double DEFAULT_GPU_MEMORY_FRACTION = 0.9;
  public static final int DEFAULT_MAX_GRAPH_BATCH = 256;
  public static final int DEFAULT_MAX_STEP_TOKENS = 8192;

  public CudaSettings {
    List<String> problems = new ArrayList<>();
    if (decodePath == null) {
      problems.add("decode path must be given");
    }
    if (attention == null) {
      problems.add("attention kernels must be given");
    }
    if (gemm == null) {
      problems.add("GEMM policy must be given");
    }
    if (!(gpuMemoryFraction > 0 && gpuMemoryFraction <= 1)) {
      problems.add("gpu memory fraction must be in (0, 1], got " + gpuMemoryFraction);
    }
    if (maxGraphBatch < 1 || maxGraphBatch > 1024) {
      problems.add("max graph batch must be in 1..1024, got " + maxGraphBatch);
    }
    if (maxGraphBatch >= 1 && maxStepTokens < topBucket(maxGraphBatch)) {
      problems.add("max step tokens (" + maxStepTokens + ") must be >= the largest graph bucket ("
          + topBucket(maxGraphBatch) + ")");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("CUDA backend settings: " + String.join("; ", problems));
    }
  }

  /**
   * persistent+graph, 0.9 of the memory, graphs up to batch 256, steps up to 8192 tokens, the
   * fastest GEMM per shape.
   */
  public static CudaSettings defaults() {
    return new CudaSettings(DecodePath.PERSISTENT_GRAPH, DEFAULT_GPU_MEMORY_FRACTION, DEFAULT_MAX_GRAPH_BATCH,
        DEFAULT_MAX_STEP_TOKENS, AttentionKernels.AUTO, GemmTuner.Policy.AUTO,
        io.decodefleet.agent.backend.cuda.driver.EnvSetting.notOff(System.getenv(SAMPLED_GRAPHS_ENV)));
  }

  public CudaSettings withDecodePath(DecodePath path) {
    return new CudaSettings(path, gpuMemoryFraction, maxGraphBatch, maxStepTokens, attention, gemm, sampledGraphs);
  }

  public CudaSettings withGpuMemoryFraction(double fraction) {
    return new CudaSettings(decodePath, fraction, maxGraphBatch, maxStepTokens, attention, gemm, sampledGraphs);
  }

  public CudaSettings withMaxGraphBatch(int batch) {
    return new CudaSettings(decodePath, gpuMemoryFraction, batch, Math.max(topBucket(Math.max(1, batch)),
        maxStepTokens), attention, gemm, sampledGraphs);
  }

  public CudaSettings withMaxStepTokens(int tokens) {
    return new CudaSettings(decodePath, gpuMemoryFraction, maxGraphBatch, tokens, attention, gemm, sampledGraphs);
  }

  public CudaSettings withAttention(AttentionKernels kernels) {
    return new CudaSettings(decodePath, gpuMemoryFraction, maxGraphBatch, maxStepTokens, kernels, gemm, sampledGraphs);
  }

  public CudaSettings withGemm(GemmTuner.Policy policy) {
    return new CudaSettings(decodePath, gpuMemoryFraction, maxGraphBatch, maxStepTokens, attention, policy,
        sampledGraphs);
  }

  /**
   * {@code DECODEFLEET_SAMPLED_GRAPHS=on}: a sampled pure decode step replays the greedy decode graph
   * of its bucket and then draws its tokens with SAMPLE over the graph's logits; otherwise sampled
   * steps run eagerly. Off by default until checked on a GPU.
   */
  public static final String SAMPLED_GRAPHS_ENV = "DECODEFLEET_SAMPLED_GRAPHS";

  /** These settings with sampled decode steps replaying the decode graphs, or not. */
  public CudaSettings withSampledGraphs(boolean on) {
    return new CudaSettings(decodePath, gpuMemoryFraction, maxGraphBatch, maxStepTokens, attention, gemm, on);
  }

  /** The largest graph bucket: {@code BatchBuckets.bucketOf(maxGraphBatch)}. */
  public int graphBucketLimit() {
    return topBucket(maxGraphBatch);
  }

  /** The rows the LM head computes at once: a graph's whole bucket fits one group. */
  public int logitsRows() {
    return Math.max(256, graphBucketLimit());
  }

  private static int topBucket(int batch) {
    return BatchBuckets.bucketOf(batch);
  }
}
