package io.decodefleet.agent.engine;

/**
 * A map from long keys to non-negative int values, -1 standing for "none": an open-addressing table
 * of primitive longs and ints (linear probing, at most half full, deletion by shifting back the
 * entries after the removed one), so that the engine's per-step bookkeeping boxes nothing. It holds
 * the prefix cache's block hashes ({@link KvBlockManager}), the runner's sequence ids and a step's
 * sampled ids ({@link SampledTokens}). Not thread-safe.
 */
final class LongIntMap {
  private static final int NONE = -1;

  private long[] keys;
  private int[] values;
  private int size;

  LongIntMap() {
    this(8);
  }

  /** A map that holds {@code expected} keys without growing. */
  LongIntMap(int expected) {
    int capacity = Integer.highestOneBit(Math.max(8, expected) * 2 - 1) * 2;
    keys = new long[capacity];
    values = filled(capacity);
  }

  private static int[] filled(int n) {
    int[] a = new int[n];
    java.util.Arrays.fill(a, NONE);
    return a;
  }

  int size() {
    return size;
  }

  /** The value under {@code key}, or -1. */
  int get(long key) {
    int mask = keys.length - 1;
    for (int i = slot(key, mask); values[i] != NONE; i = (i + 1) & mask) {
      if (keys[i] == key) return values[i];
    }
    return NONE;
  }

  boolean contains(long key) {
    return get(key) != NONE;
  }

  /** Puts {@code value} (>= 0) under {@code key}, which must not be in the map yet. */
  void put(long key, int value) {
    if (value < 0) throw new IllegalArgumentException("value must be >= 0, got " + value);
    if (2 * (size + 1) > keys.length) grow();
    int mask = keys.length - 1;
    int i = slot(key, mask);
    while (values[i] != NONE) {
      if (keys[i] == key) throw new IllegalStateException("key " + key + " is already in the map");
      i = (i + 1) & mask;
    }
    keys[i] = key;
    values[i] = value;
    size++;
  }

  /** Removes {@code key}; nothing when it is not in the map. */
  void remove(long key) {
    int mask = keys.length - 1;
    int i = slot(key, mask);
    while (values[i] != NONE && keys[i] != key) i = (i + 1) & mask;
    if (values[i] == NONE) return;
    // Shift back every entry of the run after the hole that may sit there (its home is not between
    // the hole and itself), so that a lookup never stops at a hole before its key.
    int hole = i;
    for (int j = (hole + 1) & mask; values[j] != NONE; j = (j + 1) & mask) {
      int home = slot(keys[j], mask);
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys[hole] = keys[j];
        values[hole] = values[j];
        hole = j;
      }
    }
    values[hole] = NONE;
    size--;
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldValues = values;
    keys = new long[oldKeys.length * 2];
    values = filled(oldKeys.length * 2);
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldValues[i] != NONE) put(oldKeys[i], oldValues[i]);
    }
  }

  /** The key's home slot: its bits mixed (sequence ids count up; block hashes are SHA-256's). */
  private static int slot(long key, int mask) {
    long h = key * 0x9e3779b97f4a7c15L;
    return (int) (h ^ (h >>> 32)) & mask;
  }
}
