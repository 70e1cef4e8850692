package io.decodefleet.agent.backend.cuda.kv;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.engine.ModelConfig;

/**
 * The paged KV cache of every layer in one allocation: per layer a K and a V pool of (numBlocks,
 * blockSize, kvHeads, headDim) bf16, the layout the rope/append and attention kernels address.
 * Zeroed at allocation, so padding rows that read block 0 see finite values.
 */
public final class KvPool implements AutoCloseable {

  private final DeviceBuffer pool;
  private final int numBlocks;
  private final int blockSize;
  private final long layerBytes;
  private final int layers;

  private KvPool(DeviceBuffer pool, int numBlocks, int blockSize, long layerBytes, int layers) {
    this.pool = pool;
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.layerBytes = layerBytes;
    this.layers = layers;
  }

  /** Bytes of one block across every layer, K and V. */
  public static long bytesPerBlock(ModelConfig config, int blockSize) {
    return config.kvBytesPerToken(2) * blockSize;
  }

  public static KvPool allocate(CudaContext ctx, ModelConfig config, int numBlocks, int blockSize) {
    if (numBlocks < 1 || blockSize < 1) {
      throw new IllegalArgumentException("KV pool needs >= 1 block of >= 1 token, got " + numBlocks + " x "
          + blockSize);
    }
    long layerBytes = (long) numBlocks * blockSize * config.kvSize() * 2;
    DeviceBuffer pool = ctx.allocate(2 * layerBytes * config.numHiddenLayers());
    try {
      pool.fill32(0);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
    return new KvPool(pool, numBlocks, blockSize, layerBytes, config.numHiddenLayers());
  }

  /** (numBlocks, blockSize, kvHeads, headDim) bf16 keys of {@code layer}. */
  public long keys(int layer) {
    return pool.address(2 * layer * layerBytes);
  }

  /** (numBlocks, blockSize, kvHeads, headDim) bf16 values of {@code layer}. */
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

  /** Elements of one block of one layer's K (or V) pool: blockSize * kvHeads * headDim. */
  public int pageElems() {
    return (int) (layerBytes / 2 / numBlocks);
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
