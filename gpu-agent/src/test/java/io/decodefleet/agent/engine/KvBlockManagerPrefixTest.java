package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Prefix caching in the block pool: sharing, evictable blocks, eviction order, and what is never evicted. */
class KvBlockManagerPrefixTest {

  private static List<Integer> alloc(KvBlockManager m, int blocks) {
    List<Integer> table = new ArrayList<>();
    assertTrue(m.ensureCapacity(table, blocks * m.blockSize()));
    return table;
  }

  @Test
  void aRegisteredBlockIsFoundSharedAndStaysCachedButFreeWhenReleased() {
    KvBlockManager m = new KvBlockManager(4, 16, true);
    List<Integer> a = alloc(m, 2);
    m.register(a.get(0), 101);
    m.register(a.get(1), 102);
    assertEquals(List.of(a.get(0), a.get(1)), m.cachedPrefix(new long[] {101, 102, 103}, 3));
    assertEquals(List.of(a.get(0)), m.cachedPrefix(new long[] {101, 999}, 2));
    assertEquals(List.of(), m.cachedPrefix(new long[] {999, 102}, 2), "a prefix match starts at the first block");

    List<Integer> shared = m.cachedPrefix(new long[] {101, 102}, 2);
    m.touch(shared);
    List<Integer> b = new ArrayList<>(shared);
    m.release(a);
    assertEquals(2, m.numFreeBlocks(), "shared blocks stay in use while b holds them");
    m.release(b);
    assertEquals(4, m.numFreeBlocks(), "evictable blocks count as free");
    assertEquals(2, m.numCachedBlocks());
    assertEquals(List.of(shared.get(0), shared.get(1)), m.cachedPrefix(new long[] {101, 102}, 2), "still cached");
    KvBlockManager.CacheChanges changes = m.drainChanges();
    assertEquals(List.of(101L, 102L), changes.added());
    assertTrue(changes.evicted().isEmpty());
    assertTrue(m.drainChanges().isEmpty());
  }

  @Test
  void neverCachedBlocksAreUsedBeforeAnyEvictionAndEvictionTakesTheLeastRecentlyFreedTailFirst() {
    KvBlockManager m = new KvBlockManager(4, 16, true);
    List<Integer> a = alloc(m, 2); // blocks 0, 1
    m.register(a.get(0), 1);
    m.register(a.get(1), 2);
    m.release(a); // freed tail first: 1 is older in the evictable order than 0
    m.drainChanges();
    List<Integer> b = alloc(m, 2); // the two never-cached blocks
    assertFalse(b.contains(0) || b.contains(1), "evicted a cached block while free ones were left: " + b);
    assertEquals(2, m.numCachedBlocks());
    List<Integer> c = alloc(m, 1);
    assertEquals(List.of(1), c, "the sequence's tail block goes first");
    assertEquals(List.of(2L), m.drainChanges().evicted());
    assertEquals(List.of(0), m.cachedPrefix(new long[] {1}, 1), "its prefix block survives");
  }

  @Test
  void aBlockInUseIsNeverEvictedAndAFullPoolRefuses() {
    KvBlockManager m = new KvBlockManager(3, 16, true);
    List<Integer> a = alloc(m, 2);
    m.register(a.get(0), 7);
    m.register(a.get(1), 8);
    List<Integer> rest = alloc(m, 1);
    List<Integer> more = new ArrayList<>();
    assertFalse(m.ensureCapacity(more, 16), "every block is in use");
    assertTrue(more.isEmpty());
    assertEquals(2, m.numCachedBlocks());
    List<Integer> restBlocks = List.copyOf(rest);
    m.release(rest);
    assertTrue(m.ensureCapacity(more, 16));
    assertEquals(restBlocks, more, "only the uncached free block was taken");
    assertEquals(List.of(a.get(0), a.get(1)), m.cachedPrefix(new long[] {7, 8}, 2));
  }

  @Test
  void aSecondBlockWithTheSameContentIsNotRegisteredAndWithoutCachingNothingIs() {
    KvBlockManager m = new KvBlockManager(4, 16, true);
    List<Integer> a = alloc(m, 1);
    List<Integer> b = alloc(m, 1);
    m.register(a.get(0), 5);
    m.register(b.get(0), 5);
    assertEquals(List.of(a.get(0)), m.cachedPrefix(new long[] {5}, 1));
    assertEquals(1, m.numCachedBlocks());

    KvBlockManager off = new KvBlockManager(4, 16, false);
    List<Integer> c = alloc(off, 1);
    off.register(c.get(0), 5);
    assertEquals(List.of(), off.cachedPrefix(new long[] {5}, 1));
    assertTrue(off.drainChanges().isEmpty());
  }
}
