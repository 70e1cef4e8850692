package io.decodefleet.agent.backend.cpu;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec.KvCacheDtype;
import io.decodefleet.kernels.reference.PagedAttention;
import io.decodefleet.kernels.reference.PagedKvCache;

/**
 * The CPU backend's paged KV pool, per layer (numBlocks, blockSize, kvHeads, headDim): float32, or
 * FP8 e4m3 codes with one scale per layer for K and one for V (1 unless the checkpoint gives
 * k_scale / v_scale), a quarter of the bytes, so four times the blocks fit the same memory.
 */
final class CpuKvCache {
  private final ModelConfig config;
  private final int blockSize;
  private final float[][] k; // per layer (numBlocks, blockSize, kvHeads, headDim) float32; null when FP8
  private final float[][] v;
  private final byte[][] k8; // per layer (numBlocks, blockSize, kvHeads, headDim) e4m3; null when float32
  private final byte[][] v8;
  private final float[] kScales; // (layers)
  private final float[] vScales; // (layers)

  /** Bytes one element takes in a cache of {@code dtype}. */
  static int elementBytes(KvCacheDtype dtype) {
    return dtype == KvCacheDtype.FP8 ? 1 : Float.BYTES;
  }

  CpuKvCache(ModelConfig config, int numBlocks, int blockSize, KvCacheDtype dtype, float[] kScales, float[] vScales) {
    long perLayer = (long) numBlocks * blockSize * config.kvSize();
    if (perLayer > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("KV pool of " + numBlocks + " blocks is too large for the CPU backend");
    }
    this.config = config;
    this.blockSize = blockSize;
    this.kScales = kScales.clone();
    this.vScales = vScales.clone();
    boolean fp8 = dtype == KvCacheDtype.FP8;
    int layers = config.numHiddenLayers();
    k = fp8 ? null : new float[layers][(int) perLayer];
    v = fp8 ? null : new float[layers][(int) perLayer];
    k8 = fp8 ? new byte[layers][(int) perLayer] : null;
    v8 = fp8 ? new byte[layers][(int) perLayer] : null;
  }

  boolean fp8() {
    return k8 != null;
  }

  int blockSize() {
    return blockSize;
  }

  /** The float32 pools, for KV transfer; null when FP8. */
  float[][] keys() {
    return k;
  }

  float[][] values() {
    return v;
  }

  /** Stores each of the n tokens' K/V (n, kvHeads, headDim) in its slot (negative: skipped). */
  void append(int layer, float[] keys, float[] vals, int n, int[] slotMapping) {
    if (k8 != null) {
      PagedKvCache.appendFp8(keys, vals, n, slotMapping, k8[layer], v8[layer], config.numKeyValueHeads(),
          config.headDim(), kScales[layer], vScales[layer]);
    } else {
      PagedKvCache.append(keys, vals, n, slotMapping, k[layer], v[layer], config.numKeyValueHeads(), config.headDim());
    }
  }

  /** Paged attention of the n query rows q (n, qHeads, headDim) over their sequences' cached K/V. */
  void attend(int layer, float[] q, int n, int[][] blockTables, int[] contextLens, float scale, float[] out) {
    if (k8 != null) {
      PagedAttention.forwardFp8(q, n, config.numAttentionHeads(), config.numKeyValueHeads(), config.headDim(),
          k8[layer], v8[layer], kScales[layer], vScales[layer], blockSize, blockTables, contextLens, scale, out);
    } else {
      PagedAttention.forward(q, n, config.numAttentionHeads(), config.numKeyValueHeads(), config.headDim(), k[layer],
          v[layer], blockSize, blockTables, contextLens, scale, out);
    }
  }
}
