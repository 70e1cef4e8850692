package io.decodefleet.agent.engine;

/**
 * The prefix cache's index from a block hash to the block registered under it: an open-addressing
 * table of primitive longs and ints (linear probing, at most half full, deletion by shifting back
 * the entries after the removed one), so that registering and evicting a block each decode step
 * boxes nothing. Owned by its {@link KvBlockManager}; not thread-safe.
 */
final class BlockIndex {
  private static final int NONE = -1;

  private long[] keys = new long[16];
  private int[] blocks = filled(16);
  private int size;

  private static int[] filled(int n) {
    int[] a = new int[n];
    java.util.Arrays.fill(a, NONE);
    return a;
  }

  int size() {
    return size;
  }

  /** The block registered under {@code hash}, or -1. */
  int get(long hash) {
    int mask = keys.length - 1;
    for (int i = slot(hash, mask); blocks[i] != NONE; i = (i + 1) & mask) {
      if (keys[i] == hash) return blocks[i];
    }
    return NONE;
  }

  boolean contains(long hash) {
    return get(hash) != NONE;
  }

  /** Registers {@code block} (>= 0) under {@code hash}, which must not be registered yet. */
  void put(long hash, int block) {
    if (block < 0) throw new IllegalArgumentException("block must be >= 0, got " + block);
    if (2 * (size + 1) > keys.length) grow();
    int mask = keys.length - 1;
    int i = slot(hash, mask);
    while (blocks[i] != NONE) {
      if (keys[i] == hash) throw new IllegalStateException("hash " + hash + " is already registered");
      i = (i + 1) & mask;
    }
    keys[i] = hash;
    blocks[i] = block;
    size++;
  }

  /** Forgets {@code hash}; nothing when it is not registered. */
  void remove(long hash) {
    int mask = keys.length - 1;
    int i = slot(hash, mask);
    while (blocks[i] != NONE && keys[i] != hash) i = (i + 1) & mask;
    if (blocks[i] == NONE) return;
    // Shift back every entry of the run after the hole that may sit there (its home is not between
    // the hole and itself), so that a lookup never stops at a hole before its key.
    int hole = i;
    for (int j = (hole + 1) & mask; blocks[j] != NONE; j = (j + 1) & mask) {
      int home = slot(keys[j], mask);
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys[hole] = keys[j];
        blocks[hole] = blocks[j];
        hole = j;
      }
    }
    blocks[hole] = NONE;
    size--;
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldBlocks = blocks;
    keys = new long[oldKeys.length * 2];
    blocks = filled(oldKeys.length * 2);
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldBlocks[i] != NONE) put(oldKeys[i], oldBlocks[i]);
    }
  }

  /** The hash's home slot: its bits mixed (a hash's low bits are SHA-256's, but tests use small ones). */
  private static int slot(long hash, int mask) {
    long h = hash * 0x9e3779b97f4a7c15L;
    return (int) (h ^ (h >>> 32)) & mask;
  }
}
