package io.decodefleet.agent.backend.cuda.kv;


/**
 * Which pages of a {@link KvPool} one sequence's KV transfer moves, in which order and in which
 * chunks. Pure Java. Both sides derive the same chunks from the page count and the model, so a
 * sender and a receiver whose pools differ in size agree on every chunk's bytes.
 *
 * <p>Addressing: the pool keeps, per layer, a K pool then a V pool, each (numBlocks, blockSize,
 * kvHeads, headDim) bf16, back to back. Counted in pages from the pool's start, layer l's K block
 * b is page {@code 2·l·numBlocks + b}, and its V block is the same page counted from the start of
 * layer 0's V pool. So one launch of the pack kernel with kCache = the pool's start, vCache =
 * layer 0's V pool and the flat page list {@code [2·l·numBlocks + table[i] for l, for i]} moves
 * every layer's K and V pages of the sequence; unpack is the same on the receiving pool.
 *
 * <p>Stream: (2, layers·numPages, pageElems) bf16 cut into chunks of at most {@link #chunkPages}
 * flat pages; chunk c is (2, count, pageElems): the K pages of its range of the flat list, then
 * their V pages. One chunk is packed, sent, received and unpacked at a time through one buffer.
 */
public final class KvTransferPlan {

  /** The most bytes one chunk moves, and what the transfer buffer holds: a constant both sides share. */
  static final long CHUNK_BYTES = 256L << 20;
  private static final int BF16 = 2;

  private final int layers;
  private final int numPages;
  private final int pageElems;
  private final int chunkPages;
  private final int[] flat; // (layers * numPages) page indices from the pool's start; null: receive and discard

  private KvTransferPlan(int layers, int numPages, int pageElems, int chunkPages, int[] flat) {
    if (layers < 1 || numPages < 1) {
      throw new IllegalArgumentException("a KV transfer needs >= 1 layer and >= 1 page, got " + layers + " and "
          + numPages);
    }
    if (pageElems < 8 || pageElems % 8 != 0) {
      throw new IllegalArgumentException("pageElems must be a positive multiple of 8, got " + pageElems);
    }
    this.layers = layers;
    this.numPages = numPages;
    this.pageElems = pageElems;
    if (chunkPages < 1) throw new IllegalArgumentException("chunkPages must be >= 1, got " + chunkPages);
    this.chunkPages = chunkPages;
    this.flat = flat;
  }

  /** Flat pages per chunk: as many as {@link #CHUNK_BYTES} holds, K and V, at least one. */
  static int chunkPages(int pageElems) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, CHUNK_BYTES / (2L * BF16 * pageElems)));
  }

  /**
   * Moves the pages of {@code table} (block ids of a pool of {@code numBlocks} blocks, the
   * sequence's order) of every layer.
   */
  public static KvTransferPlan of(int layers, int numBlocks, int[] table, int pageElems) {
    return of(layers, numBlocks, table, pageElems, chunkPages(pageElems));
  }

  /** As {@link #of(int, int, int[], int)} with chunks of {@code chunkPages} flat pages (tests cut small chunks). */
  static KvTransferPlan of(int layers, int numBlocks, int[] table, int pageElems, int chunkPages) {
    if (2L * layers * numBlocks > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a pool of " + numBlocks + " blocks x " + layers + " layers has more pages"
          + " than int32 page indices address");
    }
    int[] flat = new int[layers * table.length];
    for (int l = 0; l < layers; l++) {
      for (int i = 0; i < table.length; i++) {
        int b = table[i];
        if (b < 0 || b >= numBlocks) {
          throw new IllegalArgumentException("block " + b + " at position " + i + " is outside the pool's "
              + numBlocks + " blocks");
        }
        flat[l * table.length + i] = 2 * l * numBlocks + b;
      }
    }
    return new KvTransferPlan(layers, table.length, pageElems, chunkPages, flat);
  }

  /** Receives {@code numPages} pages of every layer and keeps none of them. */
  public static KvTransferPlan discard(int layers, int numPages, int pageElems) {
    return new KvTransferPlan(layers, numPages, pageElems, chunkPages(pageElems), null);
  }

  /** Bytes the chunk buffer needs for any transfer of up to {@code maxPages} pages per layer. */
  static long bufferBytes(int layers, int maxPages, int pageElems) {
    return 2L * BF16 * pageElems * Math.min(chunkPages(pageElems), (long) layers * Math.max(1, maxPages));
  }

  int numPages() {
    return numPages;
  }

  /** Pages over all layers: layers * numPages. */
  int flatPages() {
    return layers * numPages;
  }

  /** The flat page list, or null when the data is discarded. */
  int[] flat() {
    return flat;
  }

  boolean discards() {
    return flat == null;
  }

  int chunks() {
    return (flatPages() + chunkPages - 1) / chunkPages;
  }

  /** The first flat page of chunk {@code c}. */
  int chunkStart(int c) {
    return c * chunkPages;
  }

  /** Flat pages in chunk {@code c}. */
  int chunkCount(int c) {
    return Math.min(chunkPages, flatPages() - chunkStart(c));
  }

  /** bf16 elements chunk {@code c} moves: (2, count, pageElems). */
  long chunkElems(int c) {
    return 2L * chunkCount(c) * pageElems;
  }

  /** Bytes the whole transfer moves. */
  public long bytes() {
    return 2L * BF16 * pageElems * flatPages();
  }
}
