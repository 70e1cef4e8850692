package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.checkpoint.ExpertTensor;
import io.decodefleet.agent.engine.checkpoint.LlamaTensor;
import java.util.function.LongUnaryOperator;

/**
 * Dummy weights as a pure function of (seed, tensor id, element index): a counter-based hash, so the
 * CPU backend and a GPU kernel materialise bit-identical weights without copying them through the
 * host, and any element can be recomputed on its own.
 *
 * <p>The hash is SplitMix64's finaliser over {@code seed ^ (tensorId * golden) ^ index * odd}; the top
 * 24 bits become a float uniform in [-1, 1), scaled per tensor so activations keep unit order of
 * magnitude (1/sqrt(fan_in) for projections, around 1 for norms).
 */
public final class DummyWeights {
  private DummyWeights() {}

  /**
   * The model's tensors, each with its name in a checkpoint. Tensor ids: layer-major, then the
   * kind's ordinal, so kinds are only ever appended (the biases came after the dense model, the q/k
   * norms and the mixture of experts' router and experts after them).
   */
  public enum Kind {
    EMBEDDING(LlamaTensor.EMBED_TOKENS), Q_PROJ(LlamaTensor.Q_PROJ), K_PROJ(LlamaTensor.K_PROJ),
    V_PROJ(LlamaTensor.V_PROJ), O_PROJ(LlamaTensor.O_PROJ), GATE_PROJ(LlamaTensor.GATE_PROJ),
    UP_PROJ(LlamaTensor.UP_PROJ), DOWN_PROJ(LlamaTensor.DOWN_PROJ), INPUT_NORM(LlamaTensor.INPUT_LAYERNORM),
    POST_ATTENTION_NORM(LlamaTensor.POST_ATTENTION_LAYERNORM), FINAL_NORM(LlamaTensor.NORM),
    LM_HEAD(LlamaTensor.LM_HEAD), Q_BIAS(LlamaTensor.Q_BIAS), K_BIAS(LlamaTensor.K_BIAS), V_BIAS(LlamaTensor.V_BIAS),
    Q_NORM(LlamaTensor.Q_NORM), K_NORM(LlamaTensor.K_NORM), ROUTER(ExpertTensor.ROUTER),
    EXPERT_GATE(ExpertTensor.GATE), EXPERT_UP(ExpertTensor.UP), EXPERT_DOWN(ExpertTensor.DOWN);

    private final LlamaTensor tensor;
    private final ExpertTensor expertTensor;

    Kind(LlamaTensor tensor) {
      this.tensor = tensor;
      this.expertTensor = null;
    }

    Kind(ExpertTensor expertTensor) {
      this.tensor = null;
      this.expertTensor = expertTensor;
    }

    /** The tensor in a Hugging Face checkpoint; null for a router or an expert ({@link #expertTensor}). */
    public LlamaTensor tensor() {
      return tensor;
    }

    /** The router or expert tensor in a Hugging Face checkpoint; null for every other kind. */
    public ExpertTensor expertTensor() {
      return expertTensor;
    }

    /** Whether there is one per expert of each layer. */
    public boolean perExpert() {
      return expertTensor != null && expertTensor.perExpert();
    }
  }

  /**
   * The dummy tensor's scale: 1 for the embedding, sqrt(3 / fan_in) for a projection (uniform [-1, 1)
   * has variance 1/3, so its outputs keep unit variance), 0.1 around {@link #offset} for norms and
   * biases. One rule for every backend, so that they all hold the same weights.
   */
  public static float scale(Kind kind, ModelConfig c) {
    return switch (kind) {
      case EMBEDDING -> 1.0f;
      case Q_PROJ, K_PROJ, V_PROJ, GATE_PROJ, UP_PROJ, LM_HEAD, ROUTER, EXPERT_GATE, EXPERT_UP ->
          projectionScale(c.hiddenSize());
      case O_PROJ -> projectionScale(c.qSize());
      case DOWN_PROJ -> projectionScale(c.intermediateSize());
      case EXPERT_DOWN -> projectionScale(c.moe().moeIntermediateSize());
      case INPUT_NORM, POST_ATTENTION_NORM, FINAL_NORM, Q_BIAS, K_BIAS, V_BIAS, Q_NORM, K_NORM -> 0.1f;
    };
  }

  /** The dummy tensor's offset: 1 for norms (weights around 1), 0 for everything else. */
  public static float offset(Kind kind) {
    return switch (kind) {
      case INPUT_NORM, POST_ATTENTION_NORM, FINAL_NORM, Q_NORM, K_NORM -> 1f;
      default -> 0f;
    };
  }

  private static float projectionScale(int fanIn) {
    return (float) Math.sqrt(3.0 / fanIn);
  }

  public static long tensorId(Kind kind, int layer) {
    return ((long) (layer + 1) << 8) | kind.ordinal();
  }

  /** An expert's tensor: the layer's id with {@code expert + 1} above bit 40 (-1: not per expert, the layer's id). */
  public static long tensorId(Kind kind, int layer, int expert) {
    return tensorId(kind, layer) | ((long) (expert + 1) << 40);
  }

  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** Uniform in [-1, 1), exactly representable in float32 (24 significant bits). */
  public static float uniform(long seed, long tensorId, long index) {
    long h = mix(seed ^ (tensorId * 0x9e3779b97f4a7c15L) ^ (index * 0xd1b54a32d192ed03L));
    int bits24 = (int) (h >>> 40);
    return (bits24 - (1 << 23)) * (1.0f / (1 << 23));
  }

  /** Fills {@code out} with {@code scale * uniform + offset} for indices [0, out.length). */
  public static void fill(float[] out, long seed, long tensorId, float scale, float offset) {
    for (int i = 0; i < out.length; i++) {
      out[i] = offset + scale * uniform(seed, tensorId, i);
    }
  }

  /**
   * Fills {@code out} with a part of a tensor (a tensor-parallel rank's slice): element i is the
   * full tensor's element {@code fullIndex.applyAsLong(i)}.
   */
  public static void fill(float[] out, long seed, long tensorId, LongUnaryOperator fullIndex, float scale,
      float offset) {
    for (int i = 0; i < out.length; i++) {
      out[i] = offset + scale * uniform(seed, tensorId, fullIndex.applyAsLong(i));
    }
  }
}
