package io.decodefleet.agent.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * The paged KV cache's block allocator: a fixed pool of blocks of {@code blockSize} token slots,
 * each with a reference count (the sequences whose block table holds it).
 *
 * <p>Without prefix caching a block is owned by one sequence; free blocks are handed out
 * lowest-first from a fresh pool and reused LIFO once freed (the most recently freed block is the
 * warmest in cache).
 *
 * <p>With prefix caching (after vLLM v1's automatic prefix caching) a full block whose content is
 * known is <em>registered</em> under the hash of its tokens and of every token before it
 * ({@link BlockHashes}); a sequence that starts with the same tokens finds it ({@link #cachedPrefix})
 * and shares it ({@link #touch}). A registered block whose count drops to 0 stays cached but
 * <em>evictable</em>: it counts as free, and is reused (its hash forgotten) only when no never-cached
 * free block is left, least recently freed first. A block in use is never evicted. Hashes registered
 * and evicted are kept for {@link #drainChanges} so the coordinator can learn what each agent holds.
 * Owned by the engine thread; not thread-safe.
 */
public final class KvBlockManager {
  private final int numBlocks;
  private final int blockSize;
  private final boolean prefixCaching;
  /**
   * Free blocks holding nothing worth keeping, reused LIFO: a ring of block ids from {@code freeHead},
   * {@code freeCount} long (ints, not boxed: a simulated fleet holds a thousand of these pools).
   */
  private final int[] free; // (numBlocks) block ids
  private int freeHead;
  private int freeCount;
  /**
   * Free blocks still registered (evictable), least recently freed first: a list threaded through
   * {@code lruPrev}/{@code lruNext} (-1 ends it), allocated with prefix caching only; a block is on it
   * exactly when it is registered and its count is 0.
   */
  private final int[] lruPrev;
  private final int[] lruNext;
  private int lruOldest = -1;
  private int lruNewest = -1;
  private int evictableCount;
  private final int[] refCount;
  private final long[] hashOf;
  private final boolean[] registered;
  private final LongIntMap byHash = new LongIntMap();
  private List<Long> added = new ArrayList<>();
  private List<Long> evicted = new ArrayList<>();

  public KvBlockManager(int numBlocks, int blockSize) {
    this(numBlocks, blockSize, false);
  }

  /** @param prefixCaching whether full blocks are registered by content and shared */
  public KvBlockManager(int numBlocks, int blockSize, boolean prefixCaching) {
    if (numBlocks <= 0) throw new IllegalArgumentException("numBlocks must be > 0, got " + numBlocks);
    if (blockSize <= 0) throw new IllegalArgumentException("blockSize must be > 0, got " + blockSize);
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.prefixCaching = prefixCaching;
    this.refCount = new int[numBlocks];
    this.hashOf = new long[numBlocks];
    this.registered = new boolean[numBlocks];
    this.free = new int[numBlocks];
    for (int b = 0; b < numBlocks; b++) free[b] = b;
    freeCount = numBlocks;
    this.lruPrev = prefixCaching ? new int[numBlocks] : null;
    this.lruNext = prefixCaching ? new int[numBlocks] : null;
  }

  /** Puts a block that just became evictable at the newest end. */
  private void lruAppend(int block) {
    lruPrev[block] = lruNewest;
    lruNext[block] = -1;
    if (lruNewest >= 0) lruNext[lruNewest] = block;
    else lruOldest = block;
    lruNewest = block;
    evictableCount++;
  }

  /** Takes a block off the evictable list (it is on it). */
  private void lruUnlink(int block) {
    int p = lruPrev[block];
    int n = lruNext[block];
    if (p >= 0) lruNext[p] = n;
    else lruOldest = n;
    if (n >= 0) lruPrev[n] = p;
    else lruNewest = p;
    evictableCount--;
  }

  public int numBlocks() {
    return numBlocks;
  }

  public int blockSize() {
    return blockSize;
  }

  public boolean prefixCaching() {
    return prefixCaching;
  }

  /** Blocks that can be handed out: never-cached free ones and evictable cached ones. */
  public int numFreeBlocks() {
    return freeCount + evictableCount;
  }

  /** Registered blocks, in use or evictable. */
  public int numCachedBlocks() {
    return byHash.size();
  }

  /** Blocks needed to hold {@code tokens} token slots. */
  public int blocksFor(int tokens) {
    return (tokens + blockSize - 1) / blockSize;
  }

  /**
   * Grows {@code blockTable} so it holds at least {@code tokens} slots. Returns false, and changes
   * nothing, when too few blocks are free.
   */
  public boolean ensureCapacity(List<Integer> blockTable, int tokens) {
    int needed = blocksFor(tokens) - blockTable.size();
    if (needed <= 0) return true;
    if (needed > numFreeBlocks()) return false;
    for (int i = 0; i < needed; i++) {
      int block;
      if (freeCount > 0) {
        block = free[freeHead];
        freeHead = (freeHead + 1) % numBlocks;
        freeCount--;
      } else {
        block = lruOldest;
        lruUnlink(block);
        forget(block);
      }
      refCount[block] = 1;
      blockTable.add(block);
    }
    return true;
  }

  /**
   * Drops one reference to every block of the table (last block first, so a sequence's tail is
   * evicted before its prefix) and clears the table. A block nobody holds becomes free, or
   * evictable if it is registered.
   */
  public void release(List<Integer> blockTable) {
    for (int i = blockTable.size() - 1; i >= 0; i--) {
      int block = blockTable.get(i);
      if (refCount[block] <= 0) throw new IllegalStateException("block " + block + " freed twice");
      if (--refCount[block] == 0) {
        if (registered[block]) {
          lruAppend(block);
        } else {
          freeHead = (freeHead + numBlocks - 1) % numBlocks;
          free[freeHead] = block;
          freeCount++;
        }
      }
    }
    blockTable.clear();
  }

  /**
   * The longest run of registered blocks matching {@code hashes} from the first on (at most
   * {@code maxBlocks}), without taking them: {@link #touch} does.
   */
  public List<Integer> cachedPrefix(long[] hashes, int maxBlocks) {
    List<Integer> hit = new ArrayList<>();
    if (!prefixCaching) return hit;
    for (int i = 0; i < Math.min(hashes.length, maxBlocks); i++) {
      int block = byHash.get(hashes[i]);
      if (block < 0) break;
      hit.add(block);
    }
    return hit;
  }

  /** Takes one more reference to each block (registered ones found by {@link #cachedPrefix}). */
  public void touch(List<Integer> blocks) {
    for (int block : blocks) {
      if (refCount[block]++ == 0) {
        if (!registered[block]) throw new IllegalStateException("block " + block + " is neither in use nor evictable");
        lruUnlink(block);
      }
    }
  }

  /**
   * Registers an in-use full block under the hash of its content. A block already registered, or a
   * hash another block holds, leaves everything as it is (the content is cached once).
   */
  public void register(int block, long hash) {
    if (!prefixCaching || registered[block] || byHash.contains(hash)) return;
    if (refCount[block] <= 0) throw new IllegalStateException("block " + block + " is registered while free");
    registered[block] = true;
    hashOf[block] = hash;
    byHash.put(hash, block);
    added.add(hash);
  }

  private void forget(int block) {
    if (!registered[block]) return;
    registered[block] = false;
    byHash.remove(hashOf[block]);
    evicted.add(hashOf[block]);
  }

  /** Hashes registered and evicted since the last call, in order; both lists are then emptied. */
  public CacheChanges drainChanges() {
    CacheChanges changes = new CacheChanges(List.copyOf(added), List.copyOf(evicted));
    added = new ArrayList<>();
    evicted = new ArrayList<>();
    return changes;
  }

  /** What the cache gained and lost: block hashes, in order. */
  public record CacheChanges(List<Long> added, List<Long> evicted) {
    public boolean isEmpty() {
      return added.isEmpty() && evicted.isEmpty();
    }
  }
}
