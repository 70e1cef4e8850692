package io.decodefleet.agent.engine;

/**
 * The arithmetic each kernel family of one step must do at the least — every matmul's multiply-adds
 * counted as two FLOPs, attention's two products per head over each row's context — the numerator
 * of a profiled step's compute floors. Where a step is large (a prefill), a family's floor is the
 * larger of its bytes over the copy rate ({@link StepBytes}) and its FLOPs over the device's best
 * measured matmul rate ({@link StepProfile#withComputeFloors}). Elementwise families (norms, RoPE,
 * SwiGLU, the embedding gather, sampling) and the all-reduce have none here (0): bytes bound them.
 */
public final class StepFlops {

  private StepFlops() {}

  /**
   * @param c the model as this device holds it (a tensor-parallel rank's shard)
   * @return FLOPs per family, indexed by {@link KernelFamily#ordinal()}
   */
  public static double[] of(ModelConfig c, ForwardBatch batch) {
    double n = batch.numTokens();
    double s = batch.numSampled();
    double layers = c.numHiddenLayers();
    double h = c.hiddenSize();
    double q = c.qSize();
    double kv = c.kvSize();
    double context = 0;
    for (int len : batch.contextLens()) context += len;
    double[] flops = new double[KernelFamily.ALL.size()];
    flops[KernelFamily.QKV_PROJ.ordinal()] = layers * 2 * n * h * (q + 2 * kv);
    // q·kᵀ and p·v: 2 FLOPs per multiply-add, headDim per head per context position, each query head.
    flops[KernelFamily.ATTENTION.ordinal()] = layers * 4 * c.headDim() * c.numAttentionHeads() * context;
    flops[KernelFamily.O_PROJ.ordinal()] = layers * 2 * n * q * h;
    if (c.isMoe()) {
      // As StepBytes: the whole MLP of a mixture of experts counts as gate_up_proj (router, and each
      // token's k experts' three projections).
      double width = c.moe().moeIntermediateSize();
      double k = c.moe().expertsPerToken();
      flops[KernelFamily.GATE_UP_PROJ.ordinal()] = layers * 2 * n * h * (c.moe().numExperts() + 3 * k * width);
    } else {
      double inter = c.intermediateSize();
      flops[KernelFamily.GATE_UP_PROJ.ordinal()] = layers * 2 * n * h * 2 * inter;
      flops[KernelFamily.DOWN_PROJ.ordinal()] = layers * 2 * n * inter * h;
    }
    flops[KernelFamily.LM_HEAD.ordinal()] = 2 * s * h * c.vocabSize();
    return flops;
  }
}
