package io.decodefleet.agent.backend.cuda.kv;

import io.decodefleet.agent.engine.HostWeights;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.ModelSpec.KvCacheDtype;

/**
 * The scales of an FP8 KV cache, one per layer for K and one for V, as the CPU backend's
 * CpuKvCache takes them: the checkpoint's {@code self_attn.k_scale} / {@code v_scale} where it has
 * them, else 1 (vLLM's default). Both arrays are null for a bf16 cache.
 */
public record Fp8KvScales(float[] k, float[] v) {

  /** A bf16 cache: no scales. */
  public static final Fp8KvScales NONE = new Fp8KvScales(null, null);

  /** The scales {@code load} asks for: NONE unless its KV cache dtype is FP8. */
  public static Fp8KvScales of(ModelLoad load) {
    if (load.kvCacheDtype() != KvCacheDtype.FP8) return NONE;
    HostWeights w = new HostWeights(load);
    int layers = load.config().numHiddenLayers();
    float[] k = new float[layers];
    float[] v = new float[layers];
    for (int l = 0; l < layers; l++) {
      k[l] = w.kvScale(l, true);
      v[l] = w.kvScale(l, false);
    }
    return new Fp8KvScales(k, v);
  }

  public boolean fp8() {
    return k != null;
  }
}
