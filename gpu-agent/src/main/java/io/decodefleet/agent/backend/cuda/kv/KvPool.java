package io.decodefleet.agent.backend.cuda.kv;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.engine.ModelConfig;

/**
 * The paged KV cache of every layer in one allocation: per layer a K and a V pool of (numBlocks,
 * blockSize, kvHeads, headDim) bf16, or FP8 e4m3fn codes ({@code --kv-cache-dtype fp8}) with one
 * scale per layer for K and one for V (an element is code times scale, as the CPU backend's
 * CpuKvCache defines it): the layout the rope/append and attention kernels address. Zeroed at
 * allocation, so padding rows that read block 0 see finite values (code 0 is +0 too).
 *
 * <p>KV transfer moves pages as opaque bytes counted in bf16 units ({@link #pageElems}): an FP8
 * page is half a bf16 one, so the same pack/unpack kernels and NCCL calls move half the bytes.
 */
public final class KvPool implements AutoCloseable {

  private final DeviceBuffer pool;
  private final int numBlocks;
  private final int blockSize;
  private final long layerBytes;
  private final int layers;
  private final float[] kScales; // per layer; null for a bf16 pool
  private final float[] vScales;

  private KvPool(DeviceBuffer pool, int numBlocks, int blockSize, long layerBytes, int layers, float[] kScales,
      float[] vScales) {
    this.pool = pool;
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.layerBytes = layerBytes;
    this.layers = layers;
    this.kScales = kScales;
    this.vScales = vScales;
  }

  /** Bytes of one element: 2 (bf16) or 1 (FP8). */
  public static int elementBytes(boolean fp8) {
    return fp8 ? 1 : 2;
  }

  /** Bytes of one bf16 block across every layer, K and V. */
  public static long bytesPerBlock(ModelConfig config, int blockSize) {
    return bytesPerBlock(config, blockSize, false);
  }

  /** Bytes of one block across every layer, K and V, bf16 or FP8. */
  public static long bytesPerBlock(ModelConfig config, int blockSize, boolean fp8) {
    return config.kvBytesPerToken(elementBytes(fp8)) * blockSize;
  }

  /** A bf16 pool. */
  public static KvPool allocate(CudaContext ctx, ModelConfig config, int numBlocks, int blockSize) {
    return allocate(ctx, config, numBlocks, blockSize, null, null);
  }

  /**
   * A pool of FP8 codes with these per-layer scales, or a bf16 pool when both are null.
   *
   * @param kScales per layer, each finite and > 0 (null: bf16)
   */
  public static KvPool allocate(CudaContext ctx, ModelConfig config, int numBlocks, int blockSize, float[] kScales,
      float[] vScales) {
    boolean fp8 = kScales != null;
    if (fp8) checkScales(config, kScales, vScales);
    if (numBlocks < 1 || blockSize < 1) {
      throw new IllegalArgumentException("KV pool needs >= 1 block of >= 1 token, got " + numBlocks + " x "
          + blockSize);
    }
    long layerBytes = (long) numBlocks * blockSize * config.kvSize() * elementBytes(fp8);
    DeviceBuffer pool = ctx.allocate(2 * layerBytes * config.numHiddenLayers());
    try {
      pool.fill32(0);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
    return new KvPool(pool, numBlocks, blockSize, layerBytes, config.numHiddenLayers(),
        fp8 ? kScales.clone() : null, fp8 ? vScales.clone() : null);
  }

  /** Refuses scales that are not one finite positive value per layer, K and V. */
  static void checkScales(ModelConfig config, float[] kScales, float[] vScales) {
    int layers = config.numHiddenLayers();
    if (vScales == null || kScales.length != layers || vScales.length != layers) {
      throw new IllegalArgumentException("an FP8 KV pool needs one K and one V scale per layer (" + layers + ")");
    }
    for (int l = 0; l < layers; l++) {
      if (!(kScales[l] > 0) || !Float.isFinite(kScales[l]) || !(vScales[l] > 0) || !Float.isFinite(vScales[l])) {
        throw new IllegalArgumentException("layer " + l + "'s KV scales must be finite and > 0 but are " + kScales[l]
            + " and " + vScales[l]);
      }
    }
  }

  /** Whether the pool holds FP8 e4m3 codes. */
  public boolean fp8() {
    return kScales != null;
  }

  /** The scale of {@code layer}'s K codes (1 for a bf16 pool). */
  public float kScale(int layer) {
    return kScales == null ? 1f : kScales[layer];
  }

  /** The scale of {@code layer}'s V codes (1 for a bf16 pool). */
  public float vScale(int layer) {
    return vScales == null ? 1f : vScales[layer];
  }

  /** "bf16" or "fp8 e4m3". */
  public String dtypeLabel() {
    return fp8() ? "fp8 e4m3" : "bf16";
  }

  /** (numBlocks, blockSize, kvHeads, headDim) keys of {@code layer} (bf16 or e4m3). */
  public long keys(int layer) {
    return pool.address(2 * layer * layerBytes);
  }

  /** (numBlocks, blockSize, kvHeads, headDim) values of {@code layer} (bf16 or e4m3). */
  public long values(int layer) {
    return pool.address((2L * layer + 1) * layerBytes);
  }

  public int numBlocks() {
    return numBlocks;
  }

  public int blockSize() {
    return blockSize;
  }

  public int layers() {
    return layers;
  }

  /**
   * One block of one layer's K (or V) pool in the bf16 units that pack/unpack and transfers count:
   * blockSize * kvHeads * headDim for bf16, half that for FP8 (two codes a unit).
   */
  public int pageElems() {
    return (int) (layerBytes / 2 / numBlocks);
  }

  /** {@link #pageElems} of a pool of {@code config} with blocks of {@code blockSize}, bf16 or FP8. */
  public static int pageElems(ModelConfig config, int blockSize, boolean fp8) {
    return Math.toIntExact((long) blockSize * config.kvSize() * elementBytes(fp8) / 2);
  }

  public DeviceBuffer buffer() {
    return pool;
  }

  public long bytes() {
    return pool.bytes();
  }

  @Override
  public void close() {
    pool.close();
  }
}
