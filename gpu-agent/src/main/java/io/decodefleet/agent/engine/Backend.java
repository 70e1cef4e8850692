package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.sampling.SamplingParams;

import io.decodefleet.agent.engine.kv.KvGroupSpec;
import io.decodefleet.agent.engine.kv.KvTransport;

/**
 * Where a model's math runs: the CPU reference (float32) or a GPU. A backend is created, used and
 * closed on its agent's engine thread only.
 *
 * <p>Call order: {@link #loadModel} once, then {@link #kvBlockCapacity} and {@link #allocateKvCache}
 * once, then any number of {@link #forward} / {@link #forwardWithoutCache}, then {@link #close}.
 * A backend that can also be one rank of a tensor-parallel group says so by being an
 * engine.tp.TensorParallelRank.
 */
public interface Backend extends AutoCloseable {
  /** "cpu" or "cuda". */
  String name();

  /** A human description of the device, e.g. "cpu (4 cores)" or "NVIDIA H200 (GPU 0)". */
  String deviceDescription();

  /**
   * Materialises the weights {@code load} names (the dummy hash, or a checkpoint whose headers were
   * checked), as its quantization says, and takes its KV cache type for {@link #kvBlockCapacity} and
   * {@link #allocateKvCache}. A backend that cannot hold them so (FP8 on a backend without FP8
   * kernels) throws an IllegalArgumentException that says what it lacks.
   */
  void loadModel(ModelLoad load);

  /** The dummy weights of {@code config} with {@code seed}: {@code loadModel(ModelLoad.dummy(config, seed))}. */
  default void loadModel(ModelConfig config, long seed) {
    loadModel(ModelLoad.dummy(config, seed));
  }

  /** How many KV blocks of {@code blockSize} tokens fit in the memory this backend may use for KV. */
  int kvBlockCapacity(int blockSize);

  /** Allocates the paged KV pool: (numBlocks, blockSize, kvHeads, headDim) per layer, for K and V. */
  void allocateKvCache(int numBlocks, int blockSize);

  /**
   * Runs the model over a flat batch, writing each token's K/V into its cache slot and attending over
   * the paged cache.
   *
   * @return (numSampled, vocab) float32 logits of the batch's sample rows, in their order
   */
  float[] forward(ForwardBatch batch);

  /**
   * Like {@link #forward}, but returns only the greedy token of each sample row (arg-max, ties to the
   * lowest id). A GPU backend computes it on the device and copies back one int per row instead of a
   * vocabulary of logits; this default samples the host logits.
   *
   * @return (numSampled) token ids of the batch's sample rows, in their order
   */
  default int[] forwardGreedy(ForwardBatch batch) {
    float[] logits = forward(batch);
    int vocab = logits.length / Math.max(1, batch.numSampled());
    Sampler sampler = new Sampler(vocab);
    int[] tokens = new int[batch.numSampled()];
    for (int i = 0; i < tokens.length; i++) tokens[i] = sampler.sample(logits, i);
    return tokens;
  }

  /**
   * Like {@link #forwardGreedy}, but each sample row picks its token by its own params: greedy rows
   * take the arg-max, others draw as {@link SamplingParams} says. A GPU backend draws on the device;
   * this default samples the host logits.
   *
   * @param params (numSampled) the sample rows' params, in their order
   * @param positions (numSampled) the position each row's sampled token takes (the draw's counter)
   * @return (numSampled) token ids of the batch's sample rows, in their order
   */
  default int[] forwardSampled(ForwardBatch batch, SamplingParams[] params, int[] positions) {
    float[] logits = forward(batch);
    int vocab = logits.length / Math.max(1, batch.numSampled());
    Sampler sampler = new Sampler(vocab);
    int[] tokens = new int[batch.numSampled()];
    for (int i = 0; i < tokens.length; i++) tokens[i] = sampler.sample(logits, i, params[i], positions[i]);
    return tokens;
  }

  /**
   * Why this backend cannot run {@link #forwardProfiled}, or empty when it can. Asked after {@link
   * #allocateKvCache}.
   */
  default java.util.Optional<String> profileUnsupported() {
    return java.util.Optional.of("the " + name() + " backend does not time kernel families");
  }

  /**
   * As {@link #forwardSampled} (greedy rows take the arg-max), with every {@link KernelFamily} of the
   * step timed ({@code --profile-steps}): on a GPU an eager run of the step's launches with events
   * between families, never a graph replay, so a profiled step is slower than a replayed one; on the
   * CPU the host clock around each op. Only where {@link #profileUnsupported} is empty.
   *
   * @return the rows' tokens and the step's profile
   */
  default StepProfile.Run forwardProfiled(ForwardBatch batch, SamplingParams[] params, int[] positions) {
    throw new UnsupportedOperationException(profileUnsupported().orElse("no profiling"));
  }

  /**
   * Runs the model over one whole sequence with dense causal attention and no cache at all: the
   * oracle that the cached incremental decode is checked against.
   *
   * @param tokens (n) token ids at positions 0..n-1
   * @return (n, vocab) float32 logits of every position
   */
  float[] forwardWithoutCache(int[] tokens);

  /**
   * Relative logit tolerance of the recompute check (--verify) on this backend: float32 on the CPU
   * (different summation orders), bf16 storage on a GPU. Greedy tokens that differ count as a pass
   * only where the recomputed logits of the two tokens are within this tolerance (a near tie).
   */
  default double verifyTolerance() {
    return RecomputeVerifier.TOLERANCE;
  }

  /**
   * Sequences one step may batch when the model spec leaves it to the backend (max_num_seqs 0).
   * Asked after {@link #loadModel}. The CPU backend's small default suits its speed; a GPU backend
   * offers what a serving engine on that GPU would (vLLM's 256 on a large GPU).
   */
  default int defaultMaxNumSeqs() {
    return DEFAULT_MAX_NUM_SEQS;
  }

  /**
   * Whether prefix caching is on when the model spec leaves it to the backend: off here, which keeps
   * the CPU reference's block allocation as it always was; a GPU backend turns it on, as vLLM does.
   */
  default boolean defaultPrefixCaching() {
    return false;
  }

  /** The per-step token budget when the model spec leaves it to the backend (max_batched_tokens 0). */
  default int defaultMaxBatchedTokens() {
    return DEFAULT_MAX_BATCHED_TOKENS;
  }

  /**
   * What loading took and chose, in one line for logs and reports (the CUDA backend: weights,
   * workspace, KV pool, GEMM dispatch, graphs); empty where there is nothing to say. Asked after
   * {@link #allocateKvCache}.
   */
  default String loadReport() {
    return "";
  }

  /** Defaults of a backend that says nothing else (the CPU backend's). */
  int DEFAULT_MAX_NUM_SEQS = 64;
  int DEFAULT_MAX_BATCHED_TOKENS = 512;

  /**
   * Tokens each expert of each layer took (and dropped over capacity) in the last {@link #forward}
   * step; null for a dense model or a backend that does not count them.
   */
  default ExpertLoad lastExpertLoad() {
    return null;
  }

  /**
   * The all-reduces of every forward step since the model was loaded (the recompute check's dense
   * forwards left out); {@link AllReduceTraffic#NONE} where the backend runs none.
   */
  default AllReduceTraffic allReduceTraffic() {
    return AllReduceTraffic.NONE;
  }

  /**
   * Whether, as a rank of an expert-parallel group, the backend completes each mixture-of-experts
   * layer with an all-reduce of the layer's float32 output over every row (GPU ranks), rather than
   * by exchanging rows between ranks (CPU ranks, which run no all-reduce).
   */
  default boolean expertLayersAllReduce() {
    return false;
  }

  /** How the last {@link #forward} ran (path, host and device time); null when not tracked. */
  default StepTiming lastStepTiming() {
    return null;
  }

  /**
   * Why this backend cannot move KV pages to other agents, or empty when it can (then {@link
   * #newKvGroupId} and {@link #joinKvGroup} work). Asked after {@link #allocateKvCache}.
   */
  default java.util.Optional<String> kvTransferUnsupported() {
    return java.util.Optional.of("the " + name() + " backend cannot move KV pages between agents");
  }

  /** A fresh unique id for a KV group: made by one member, handed to every member. */
  default byte[] newKvGroupId() {
    throw new UnsupportedOperationException(kvTransferUnsupported().orElse("no KV transfer"));
  }

  /**
   * Joins a KV group on the calling (engine) thread, over this backend's KV pool; blocks
   * until every rank has joined and the first exchange with each peer checked out, or throws
   * (naming the rank, the device and the cause) once {@code spec.timeout()} has passed.
   */
  default KvTransport joinKvGroup(KvGroupSpec spec) {
    throw new UnsupportedOperationException(kvTransferUnsupported().orElse("no KV transfer"));
  }

  @Override
  void close();
}
