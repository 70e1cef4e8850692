package io.decodefleet.agent.engine;

/**
 * The bytes each kernel family of one step must move at the least — it reads the weights once, each
 * sequence's KV once and its input activations, and writes its outputs (and the new K/V) — the
 * numerator of a profiled step's floors ({@link StepProfile}). The writes count since 2026-12-06:
 * read-only floors made the elementwise families of a prompt (norms, SwiGLU, RoPE + KV append, whose
 * outputs are as large as their inputs) look up to twice as slow as they are. The step floor of
 * {@code gpu-agent bench step} (weights and KV over the copy rate) still leaves writes out. The
 * all-reduce has no byte floor here (NaN): its bound is the interconnect's, not memory's.
 */
public final class StepBytes {

  private StepBytes() {}

  /**
   * @param c the model as this device holds it (a tensor-parallel rank's shard)
   * @param elementBytes bytes per stored element: 2 for bf16 (CUDA), 4 for float32 (CPU)
   * @return bytes per family, indexed by {@link KernelFamily#ordinal()}
   */
  public static double[] of(ModelConfig c, ForwardBatch batch, int elementBytes) {
    return of(c, batch, elementBytes, elementBytes, elementBytes);
  }

  /**
   * As {@link #of(ModelConfig, ForwardBatch, int)}, with the layer projections' weights at {@code weightBytes} an
   * element (1 for FP8 codes; their row scales are left out) and the KV cache read by attention at {@code
   * kvBytes} an element (1 for an FP8 cache); activations, norms, the embedding and the head at {@code
   * elementBytes}.
   */
  public static double[] of(ModelConfig c, ForwardBatch batch, int elementBytes, int weightBytes, int kvBytes) {
    double e = elementBytes;
    double we = weightBytes;
    double ke = kvBytes;
    double n = batch.numTokens();
    double s = batch.numSampled();
    double layers = c.numHiddenLayers();
    double h = c.hiddenSize();
    double q = c.qSize();
    double kv = c.kvSize();
    double inter = c.intermediateSize();
    double vocab = c.vocabSize();
    double context = kvPositionsRead(batch);
    double[] bytes = new double[KernelFamily.ALL.size()];
    // Embedding: each token's row in, its hidden state out.
    bytes[KernelFamily.EMBEDDING.ordinal()] = 2 * n * h * e;
    // The first input norm reads the residual and writes the normed rows; each later one (two a layer)
    // reads the residual and the delta and writes the residual and the normed rows; each its weight.
    bytes[KernelFamily.NORM.ordinal()] = ((2 * layers + 1) * h + 2 * (4 * layers + 1) * n * h) * e;
    bytes[KernelFamily.QKV_PROJ.ordinal()] = layers * (h * (q + 2 * kv) * we + (n * h + n * (q + 2 * kv)) * e);
    // Reads q, k, v (and the q/k norms' two (headDim) weights, Qwen3; the q/k/v biases, Qwen2); writes
    // q and k rotated and the new K and V into the cache.
    double qkNorms = c.qkNorm() ? 2.0 * c.headDim() : 0;
    double biases = c.attentionBias() ? q + 2 * kv : 0;
    bytes[KernelFamily.ROPE_KV.ordinal()] = layers * (n * (q + 2 * kv) + qkNorms + biases + n * (q + 3 * kv)) * e;
    bytes[KernelFamily.ATTENTION.ordinal()] = layers * (context * 2 * kv * ke + 2 * n * q * e);
    bytes[KernelFamily.O_PROJ.ordinal()] = layers * (q * h * we + (n * q + n * h) * e);
    bytes[KernelFamily.ALL_REDUCE.ordinal()] = Double.NaN;
    if (c.isMoe()) {
      // The CPU backend times a mixture of experts' whole MLP (router, dispatch, experts, combine) as
      // gate_up_proj. At the least it reads the router and k experts' three projections (every token
      // routed to the same k); more distinct experts read more. Out: each token's combined row.
      double width = c.moe().moeIntermediateSize();
      double k = Math.min(c.moe().expertsPerToken(), n * c.moe().expertsPerToken());
      bytes[KernelFamily.GATE_UP_PROJ.ordinal()] =
          layers * ((c.moe().numExperts() * h + 2 * n * h) * e + k * 3 * width * h * we);
    } else {
      bytes[KernelFamily.GATE_UP_PROJ.ordinal()] = layers * (2 * inter * h * we + (n * h + n * 2 * inter) * e);
      bytes[KernelFamily.ACTIVATION.ordinal()] = layers * n * 3 * inter * e;
      bytes[KernelFamily.DOWN_PROJ.ordinal()] = layers * (inter * h * we + (n * inter + n * h) * e);
    }
    bytes[KernelFamily.LM_HEAD.ordinal()] = (vocab * h + s * h + s * vocab) * e;
    // Sampling reads the logits; what it writes is a token a row.
    bytes[KernelFamily.SAMPLING.ordinal()] = s * vocab * e + 4 * s;
    return bytes;
  }

  /**
   * KV positions attention must read at the least: each sequence's cache once, as far as its longest
   * row attends. A decode row is a sequence of its own (its context); the rows of one prompt, which
   * share their block table, read that prompt's KV once between them (a tiled prefill attention
   * reads each K/V tile once per query tile; the floor counts it once), not once per row.
   */
  static double kvPositionsRead(ForwardBatch batch) {
    java.util.Map<int[], Integer> longest = new java.util.IdentityHashMap<>();
    int[][] tables = batch.blockTables();
    int[] contexts = batch.contextLens();
    for (int i = 0; i < contexts.length; i++) longest.merge(tables[i], contexts[i], Math::max);
    double positions = 0;
    for (int len : longest.values()) positions += len;
    return positions;
  }
}
