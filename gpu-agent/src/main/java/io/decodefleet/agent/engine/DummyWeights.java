package io.decodefleet.agent.engine;

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

  /** Tensor ids: layer-major, then the kind of the tensor. */
  public enum Kind {
    EMBEDDING, Q_PROJ, K_PROJ, V_PROJ, O_PROJ, GATE_PROJ, UP_PROJ, DOWN_PROJ, INPUT_NORM, POST_ATTENTION_NORM,
    FINAL_NORM, LM_HEAD
  }

  public static long tensorId(Kind kind, int layer) {
    return ((long) (layer + 1) << 8) | kind.ordinal();
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
