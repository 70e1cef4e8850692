package io.decodefleet.agent.engine;

import java.util.ArrayDeque;
import java.util.List;

/**
 * The paged KV cache's block allocator: a fixed pool of blocks of {@code blockSize} token slots and a
 * free list. Blocks are handed out lowest-first from a fresh pool and reused LIFO once freed (the most
 * recently freed block is the warmest in cache). Owned by the engine thread; not thread-safe.
 */
public final class KvBlockManager {
  private final int numBlocks;
  private final int blockSize;
  private final ArrayDeque<Integer> free = new ArrayDeque<>();
  private final boolean[] allocated;

  public KvBlockManager(int numBlocks, int blockSize) {
    if (numBlocks <= 0) throw new IllegalArgumentException("numBlocks must be > 0, got " + numBlocks);
    if (blockSize <= 0) throw new IllegalArgumentException("blockSize must be > 0, got " + blockSize);
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.allocated = new boolean[numBlocks];
    for (int b = 0; b < numBlocks; b++) free.addLast(b);
  }

  public int numBlocks() {
    return numBlocks;
  }

  public int blockSize() {
    return blockSize;
  }

  public int numFreeBlocks() {
    return free.size();
  }

  /** Blocks needed to hold {@code tokens} token slots. */
  public int blocksFor(int tokens) {
    return (tokens + blockSize - 1) / blockSize;
  }

  /**
   * Grows {@code blockTable} so it holds at least {@code tokens} slots. Returns false, and changes
   * nothing, when the free list is too short.
   */
  public boolean ensureCapacity(List<Integer> blockTable, int tokens) {
    int needed = blocksFor(tokens) - blockTable.size();
    if (needed <= 0) return true;
    if (needed > free.size()) return false;
    for (int i = 0; i < needed; i++) {
      int block = free.pollFirst();
      allocated[block] = true;
      blockTable.add(block);
    }
    return true;
  }

  /** Returns every block of the table to the free list and clears the table. */
  public void release(List<Integer> blockTable) {
    for (int i = blockTable.size() - 1; i >= 0; i--) {
      int block = blockTable.get(i);
      if (!allocated[block]) throw new IllegalStateException("block " + block + " freed twice");
      allocated[block] = false;
      free.addFirst(block);
    }
    blockTable.clear();
  }
}
