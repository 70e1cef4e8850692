package io.decodefleet.kernels.cuda;

/**
 * CPU reference of KV pack/unpack: one sequence's pages of a paged cache to and from one
 * contiguous buffer laid out (2, numPages, blockSize, kvHeads, headDim): all K pages, then all V
 * pages, in block-table order. Both directions are pure copies, so the kernels must match
 * exactly.
 */
public final class PagedKvTransfer {

  private PagedKvTransfer() {}

  /**
   * @param kCache (numBlocks, blockSize, kvHeads, headDim)
   * @param vCache (numBlocks, blockSize, kvHeads, headDim)
   * @param pages (numPages) block ids
   * @param pageElems blockSize * kvHeads * headDim
   * @param packed (2, numPages, pageElems), written
   */
  public static void pack(
      float[] kCache, float[] vCache, int[] pages, int numPages, int pageElems, float[] packed) {
    check(kCache, vCache, pages, numPages, pageElems, packed);
    for (int i = 0; i < numPages; i++) {
      System.arraycopy(kCache, pages[i] * pageElems, packed, i * pageElems, pageElems);
      System.arraycopy(vCache, pages[i] * pageElems, packed, (numPages + i) * pageElems, pageElems);
    }
  }

  /** The reverse of {@link #pack}: scatters {@code packed} into the pages of the caches. */
  public static void unpack(
      float[] packed, int[] pages, int numPages, int pageElems, float[] kCache, float[] vCache) {
    check(kCache, vCache, pages, numPages, pageElems, packed);
    for (int i = 0; i < numPages; i++) {
      System.arraycopy(packed, i * pageElems, kCache, pages[i] * pageElems, pageElems);
      System.arraycopy(packed, (numPages + i) * pageElems, vCache, pages[i] * pageElems, pageElems);
    }
  }

  private static void check(
      float[] kCache, float[] vCache, int[] pages, int numPages, int pageElems, float[] packed) {
    ParamChecks.nonNegative(numPages, "numPages");
    ParamChecks.positive(pageElems, "pageElems");
    if (pages.length < numPages) {
      throw new IllegalArgumentException(
          "pages has " + pages.length + " entries but numPages is " + numPages);
    }
    if (packed.length < 2L * numPages * pageElems) {
      throw new IllegalArgumentException(
          "packed has " + packed.length + " elements but needs " + 2L * numPages * pageElems);
    }
    if (vCache.length != kCache.length) {
      throw new IllegalArgumentException(
          "vCache has " + vCache.length + " elements but kCache has " + kCache.length);
    }
    long blocks = kCache.length / pageElems;
    for (int i = 0; i < numPages; i++) {
      if (pages[i] < 0 || pages[i] >= blocks) {
        throw new IllegalArgumentException(
            "pages[" + i + "] = " + pages[i] + " is outside the cache's " + blocks + " blocks");
      }
    }
  }
}
