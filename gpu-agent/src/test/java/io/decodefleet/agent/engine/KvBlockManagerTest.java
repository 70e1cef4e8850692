package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KvBlockManagerTest {

  @Test
  void blocksForRoundsUpToWholeBlocks() {
    KvBlockManager m = new KvBlockManager(8, 16);
    assertEquals(0, m.blocksFor(0));
    assertEquals(1, m.blocksFor(1));
    assertEquals(1, m.blocksFor(15));
    assertEquals(1, m.blocksFor(16));
    assertEquals(2, m.blocksFor(17));
    assertEquals(2, m.blocksFor(32));
    assertEquals(3, m.blocksFor(33));
    assertEquals(7, new KvBlockManager(8, 1).blocksFor(7));
  }

  @Test
  void constructorRejectsNonPositiveSizes() {
    assertThrows(IllegalArgumentException.class, () -> new KvBlockManager(0, 16));
    assertThrows(IllegalArgumentException.class, () -> new KvBlockManager(4, 0));
    assertThrows(IllegalArgumentException.class, () -> new KvBlockManager(-1, 16));
  }

  @Test
  void freshPoolHasEveryBlockFree() {
    KvBlockManager m = new KvBlockManager(10, 4);
    assertEquals(10, m.numBlocks());
    assertEquals(4, m.blockSize());
    assertEquals(10, m.numFreeBlocks());
  }

  @Test
  void ensureCapacityGrowsTableOnlyByTheNeededBlocks() {
    KvBlockManager m = new KvBlockManager(10, 16);
    List<Integer> table = new ArrayList<>();
    assertTrue(m.ensureCapacity(table, 5));
    assertEquals(1, table.size());
    assertEquals(9, m.numFreeBlocks());

    // Still inside the first block: nothing allocated.
    assertTrue(m.ensureCapacity(table, 16));
    assertEquals(1, table.size());
    assertEquals(9, m.numFreeBlocks());

    List<Integer> before = List.copyOf(table);
    assertTrue(m.ensureCapacity(table, 40)); // 3 blocks: grows by exactly 2
    assertEquals(3, table.size());
    assertEquals(before, table.subList(0, 1), "existing entries must stay in place");
    assertEquals(7, m.numFreeBlocks());

    // Asking for fewer tokens never shrinks the table.
    assertTrue(m.ensureCapacity(table, 1));
    assertEquals(3, table.size());
    assertEquals(7, m.numFreeBlocks());
  }

  @Test
  void ensureCapacityChangesNothingWhenThePoolIsShort() {
    KvBlockManager m = new KvBlockManager(4, 16);
    List<Integer> a = new ArrayList<>();
    assertTrue(m.ensureCapacity(a, 33)); // 3 blocks
    List<Integer> b = new ArrayList<>();
    assertTrue(m.ensureCapacity(b, 1)); // the last block
    assertEquals(0, m.numFreeBlocks());

    List<Integer> aBefore = List.copyOf(a);
    assertFalse(m.ensureCapacity(a, 49)); // needs a 4th block, none free
    assertEquals(aBefore, a);
    assertEquals(0, m.numFreeBlocks());

    // Partially satisfiable requests are refused whole: 1 free, 2 needed.
    m.release(b);
    assertEquals(1, m.numFreeBlocks());
    List<Integer> c = new ArrayList<>();
    assertFalse(m.ensureCapacity(c, 17));
    assertTrue(c.isEmpty());
    assertEquals(1, m.numFreeBlocks());
  }

  @Test
  void releaseReturnsEveryBlockAndClearsTheTable() {
    KvBlockManager m = new KvBlockManager(6, 8);
    List<Integer> table = new ArrayList<>();
    assertTrue(m.ensureCapacity(table, 30)); // 4 blocks
    assertEquals(2, m.numFreeBlocks());
    m.release(table);
    assertTrue(table.isEmpty());
    assertEquals(6, m.numFreeBlocks());
    // Releasing the (now empty) table again is a no-op.
    m.release(table);
    assertEquals(6, m.numFreeBlocks());
  }

  @Test
  void releaseRejectsDoubleFreeWithoutCorruptingTheFreeList() {
    KvBlockManager m = new KvBlockManager(6, 8);
    List<Integer> table = new ArrayList<>();
    assertTrue(m.ensureCapacity(table, 20)); // 3 blocks
    List<Integer> alias = new ArrayList<>(table);
    m.release(table);
    assertEquals(6, m.numFreeBlocks());
    assertThrows(IllegalStateException.class, () -> m.release(alias));
    assertEquals(6, m.numFreeBlocks(), "a rejected double free must not add blocks to the free list");

    // The pool still hands out exactly six distinct blocks.
    List<Integer> all = new ArrayList<>();
    assertTrue(m.ensureCapacity(all, 48));
    assertEquals(6, new HashSet<>(all).size());
    assertFalse(m.ensureCapacity(new ArrayList<>(), 1));
  }

  @Test
  void blocksAreNeverHandedOutTwice() {
    int numBlocks = 37;
    KvBlockManager m = new KvBlockManager(numBlocks, 4);
    List<List<Integer>> tables = new ArrayList<>();
    int size = 1;
    while (m.numFreeBlocks() > 0) {
      List<Integer> t = new ArrayList<>();
      int want = Math.min(size, m.numFreeBlocks());
      assertTrue(m.ensureCapacity(t, want * 4));
      tables.add(t);
      size = size % 5 + 1;
    }
    Set<Integer> seen = new HashSet<>();
    int total = 0;
    for (List<Integer> t : tables) {
      for (int b : t) {
        assertTrue(b >= 0 && b < numBlocks, "block id out of range: " + b);
        assertTrue(seen.add(b), "block " + b + " handed out twice");
        total++;
      }
    }
    assertEquals(numBlocks, total);
    assertFalse(m.ensureCapacity(new ArrayList<>(), 1), "an exhausted pool must refuse");
  }

  @Test
  void randomAllocateReleaseKeepsBlocksDistinctAndCountsConsistent() {
    int numBlocks = 50;
    KvBlockManager m = new KvBlockManager(numBlocks, 16);
    Random rnd = new Random(1234);
    List<List<Integer>> live = new ArrayList<>();
    for (int iter = 0; iter < 5000; iter++) {
      if (!live.isEmpty() && rnd.nextInt(3) == 0) {
        m.release(live.remove(rnd.nextInt(live.size())));
      } else if (!live.isEmpty() && rnd.nextBoolean()) {
        List<Integer> t = live.get(rnd.nextInt(live.size()));
        int freeBefore = m.numFreeBlocks();
        int sizeBefore = t.size();
        int tokens = rnd.nextInt(200);
        boolean ok = m.ensureCapacity(t, tokens);
        int needed = Math.max(0, m.blocksFor(tokens) - sizeBefore);
        assertEquals(needed <= freeBefore, ok);
        assertEquals(ok ? sizeBefore + needed : sizeBefore, t.size());
        assertEquals(ok ? freeBefore - needed : freeBefore, m.numFreeBlocks());
      } else {
        List<Integer> t = new ArrayList<>();
        if (m.ensureCapacity(t, 1 + rnd.nextInt(100))) live.add(t);
      }
      Set<Integer> held = new HashSet<>();
      int heldCount = 0;
      for (List<Integer> t : live) {
        held.addAll(t);
        heldCount += t.size();
      }
      assertEquals(heldCount, held.size(), "a block is in two tables at iteration " + iter);
      assertEquals(numBlocks, heldCount + m.numFreeBlocks(), "free + held must equal the pool at iteration " + iter);
    }
  }
}
