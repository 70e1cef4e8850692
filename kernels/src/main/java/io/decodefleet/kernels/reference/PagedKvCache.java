package io.decodefleet.kernels.reference;

/** Writes keys and values into a paged (block-allocated) KV cache. */
public final class PagedKvCache {

  private PagedKvCache() {}

  /**
   * Copies token {@code t}'s keys and values, all kv heads at once, into cache slot
   * {@code slotMapping[t]}, where {@code slot = block * blockSize + offsetInBlock}.
   *
   * <p>Because a slot's (kvHeads, headDim) row is contiguous in the (numBlocks, blockSize, kvHeads,
   * headDim) layout, the slot index alone locates it and the block size is not needed here. A
   * negative slot means "padding token, do not store" (the vLLM convention), so batches padded to
   * a fixed size need no separate mask.
   *
   * @param k (n, kvHeads, headDim) float32
   * @param v (n, kvHeads, headDim) float32
   * @param slotMapping (n) destination slot per token, or negative to skip the token
   * @param kCache (numBlocks, blockSize, kvHeads, headDim) float32, written
   * @param vCache (numBlocks, blockSize, kvHeads, headDim) float32, written
   * @throws IllegalArgumentException if an array is too short or a slot lies beyond the cache
   */
  public static void append(
      float[] k, // (n, kvHeads, headDim) float32
      float[] v, // (n, kvHeads, headDim) float32
      int n,
      int[] slotMapping, // (n) int32
      float[] kCache, // (numBlocks, blockSize, kvHeads, headDim) float32, in/out
      float[] vCache, // (numBlocks, blockSize, kvHeads, headDim) float32, in/out
      int kvHeads,
      int headDim) {
    Checks.nonNegative(n, "n");
    Checks.positive(kvHeads, "kvHeads");
    Checks.positive(headDim, "headDim");
    int row = kvHeads * headDim;
    Checks.length(k, (long) n * row, "k");
    Checks.length(v, (long) n * row, "v");
    Checks.length(slotMapping, n, "slotMapping");
    Checks.length(kCache, 0, "kCache");
    Checks.length(vCache, kCache.length, "vCache");
    long slots = kCache.length / row;
    for (int t = 0; t < n; t++) {
      int slot = slotMapping[t];
      if (slot < 0) {
        continue;
      }
      if (slot >= slots) {
        throw new IllegalArgumentException(
            "slotMapping[" + t + "] = " + slot + " is beyond the cache's " + slots + " slots");
      }
      System.arraycopy(k, t * row, kCache, slot * row, row);
      System.arraycopy(v, t * row, vCache, slot * row, row);
    }
  }

  /**
   * {@link #append} into an FP8 e4m3 cache: each element is stored as {@code encode(x / scale)}, so
   * the cache holds {@code decode(code) * scale} (round to nearest even, saturating at ±448 * scale).
   *
   * @param kCache (numBlocks, blockSize, kvHeads, headDim) e4m3 codes, written
   * @param vCache (numBlocks, blockSize, kvHeads, headDim) e4m3 codes, written
   * @param kScale the keys' scale, finite and > 0
   * @param vScale the values' scale, finite and > 0
   */
  public static void appendFp8(
      float[] k, // (n, kvHeads, headDim) float32
      float[] v, // (n, kvHeads, headDim) float32
      int n,
      int[] slotMapping, // (n) int32
      byte[] kCache, // (numBlocks, blockSize, kvHeads, headDim) e4m3, in/out
      byte[] vCache, // (numBlocks, blockSize, kvHeads, headDim) e4m3, in/out
      int kvHeads,
      int headDim,
      float kScale,
      float vScale) {
    Checks.nonNegative(n, "n");
    Checks.positive(kvHeads, "kvHeads");
    Checks.positive(headDim, "headDim");
    int row = kvHeads * headDim;
    Checks.length(k, (long) n * row, "k");
    Checks.length(v, (long) n * row, "v");
    Checks.length(slotMapping, n, "slotMapping");
    if (vCache.length != kCache.length) {
      throw new IllegalArgumentException("vCache has " + vCache.length + " codes but kCache " + kCache.length);
    }
    long slots = kCache.length / row;
    for (int t = 0; t < n; t++) {
      int slot = slotMapping[t];
      if (slot < 0) {
        continue;
      }
      if (slot >= slots) {
        throw new IllegalArgumentException(
            "slotMapping[" + t + "] = " + slot + " is beyond the cache's " + slots + " slots");
      }
      Fp8E4m3.encode(k, t * row, row, kScale, kCache, slot * row);
      Fp8E4m3.encode(v, t * row, row, vScale, vCache, slot * row);
    }
  }
}
