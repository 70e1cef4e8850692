package io.decodefleet.kernels.cuda;

import java.util.Arrays;

/**
 * Host-side plan of one decode-attention launch: how the batch's contexts are cut into chunks and
 * the work list of (sequence, kv head, chunk) items that both kernel variants execute.
 *
 * <p><b>Chunk size.</b> One chunk length, {@code chunkTokens} (a multiple of the 64-position
 * stage), holds for the whole batch, as in FlashInfer's balanced decode schedule. When the
 * (sequence, kv head) pairs are fewer than the CTA slots of the GPU (SM count x resident CTAs per
 * SM), the chunk is the smallest that keeps the item count within the slots: every SM gets work in
 * one wave, and no second wave of a few items doubles the time. When the pairs fill the slots, each
 * is cut into n = 1 .. {@value #MAX_WAVE_SPLITS} chunks, whichever gives the fewest stage-lengths of
 * waves, {@code ceil(items / slots) * chunkTokens}, counting 2 % more a further cut for the
 * partials it writes and merges: 512 pairs of 16384 positions on 396 slots run as two waves of
 * whole sequences, the second a third full (1.55x the even share), where three chunks each give
 * four nearly full waves (1.04x). Sequence s then has {@code ceil(contextLens[s] / chunkTokens)}
 * chunks, and a plan never holds more than {@link #maxItems} items (nor partials).
 *
 * <p><b>Work list.</b> {@code numItems} rows of four int32: {@code seq, kvHead, chunk, 0}, sorted
 * longest chunk first (longest-processing-time order). The persistent kernel's CTA b of G takes
 * items b, 2G - 1 - b, 2G + b, ... ("snake" order), which over a longest-first list pairs long
 * items with short ones and keeps CTAs balanced without an atomic counter on the item path.
 * Every (sequence, kv head, chunk) appears exactly once.
 *
 * <p><b>Partials.</b> A sequence with more than one chunk owns {@code kvHeads * chunks} partial
 * slots starting at {@code partialBase[s]}, slot {@code partialBase[s] + kvHead * chunks + chunk};
 * single-chunk sequences write the output directly and have {@code partialBase[s] = -1}.
 */
public final class DecodeAttentionPlan {

  /** Positions per pipeline stage of the kernel; chunks are whole stages. */
  public static final int STAGE_TOKENS = 64;
  /** Most chunks a (sequence, kv head) pair is cut into where the pairs alone fill the slots. */
  public static final int MAX_WAVE_SPLITS = 4;
  /** What a further cut is counted to cost, as a fraction of the waves' length (its partials and merge). */
  private static final double SPLIT_COST = 0.02;

  private final int batch;
  private final int kvHeads;
  private final int chunkTokens;
  private final int[] workItems;
  private final int[] partialBase;
  private final int numPartials;
  private final int maxChunks;

  private DecodeAttentionPlan(
      int batch, int kvHeads, int chunkTokens, int[] workItems, int[] partialBase,
      int numPartials, int maxChunks) {
    this.batch = batch;
    this.kvHeads = kvHeads;
    this.chunkTokens = chunkTokens;
    this.workItems = workItems;
    this.partialBase = partialBase;
    this.numPartials = numPartials;
    this.maxChunks = maxChunks;
  }

  /**
   * Plans a launch.
   *
   * @param contextLens (batch) positions each sequence attends to, each >= 1
   * @param kvHeads kv heads per sequence
   * @param slots CTAs the GPU runs at once: SM count x resident CTAs per SM of the kernel
   */
  public static DecodeAttentionPlan plan(int[] contextLens, int kvHeads, int slots) {
    if (contextLens == null || contextLens.length == 0) {
      throw new IllegalArgumentException("contextLens must hold at least one sequence");
    }
    ParamChecks.positive(kvHeads, "kvHeads");
    ParamChecks.positive(slots, "slots");
    int batch = contextLens.length;
    int maxCtx = 0;
    for (int s = 0; s < batch; s++) {
      if (contextLens[s] < 1) {
        throw new IllegalArgumentException(
            "contextLens[" + s + "] must be >= 1 but is " + contextLens[s]);
      }
      maxCtx = Math.max(maxCtx, contextLens[s]);
    }
    int chunkTokens = chunkTokens(contextLens, kvHeads, slots, roundUp(maxCtx, STAGE_TOKENS));

    int[] chunks = new int[batch];
    int[] partialBase = new int[batch];
    int numItems = 0;
    int numPartials = 0;
    int maxChunks = 0;
    for (int s = 0; s < batch; s++) {
      chunks[s] = ceilDiv(contextLens[s], chunkTokens);
      maxChunks = Math.max(maxChunks, chunks[s]);
      numItems += chunks[s] * kvHeads;
      if (chunks[s] > 1) {
        partialBase[s] = numPartials;
        numPartials += chunks[s] * kvHeads;
      } else {
        partialBase[s] = -1;
      }
    }
    int[] items = orderedItems(contextLens, chunks, kvHeads, chunkTokens, numItems);
    return new DecodeAttentionPlan(
        batch, kvHeads, chunkTokens, items, partialBase, numPartials, maxChunks);
  }

  /**
   * The most work items (and partial slots) a plan of {@code batch} sequences can hold: the slots while
   * the pairs are fewer; past that the pairs, or {@value #MAX_WAVE_SPLITS} x the slots, which bounds the
   * chunks that balance waves.
   */
  public static int maxItems(int batch, int kvHeads, int slots) {
    ParamChecks.positive(batch, "batch");
    ParamChecks.positive(kvHeads, "kvHeads");
    ParamChecks.positive(slots, "slots");
    long pairs = (long) batch * kvHeads;
    return (int) (pairs < slots ? slots : Math.max(pairs, (long) MAX_WAVE_SPLITS * slots));
  }

  /**
   * Where the pairs fill the slots: the chunk of n = 1 .. {@value #MAX_WAVE_SPLITS} cuts of the longest
   * context that gives the fewest stage-lengths of waves (see the class comment), within {@link
   * #maxItems} items; else the smallest multiple of 64 whose item count fits the slots.
   */
  private static int chunkTokens(int[] contextLens, int kvHeads, int slots, int noSplit) {
    if ((long) contextLens.length * kvHeads >= slots) {
      long cap = maxItems(contextLens.length, kvHeads, slots);
      int best = noSplit;
      int previous = 0;
      double bestCost = Double.MAX_VALUE;
      for (int n = 1; n <= MAX_WAVE_SPLITS; n++) {
        int chunk = roundUp(ceilDiv(noSplit, n), STAGE_TOKENS);
        if (chunk == previous) break; // no shorter chunk: the context is too short to cut further
        previous = chunk;
        long items = items(contextLens, kvHeads, chunk);
        if (items > cap) break;
        double cost = (double) ceilDiv(items, slots) * (chunk / STAGE_TOKENS) * (1 + SPLIT_COST * (n - 1));
        if (cost < bestCost) {
          bestCost = cost;
          best = chunk;
        }
      }
      return best;
    }
    // items(c) does not grow with c, so the smallest fitting c is found by bisection.
    int lo = 1;
    int hi = noSplit / STAGE_TOKENS;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (items(contextLens, kvHeads, mid * STAGE_TOKENS) <= slots) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo * STAGE_TOKENS;
  }

  private static long items(int[] contextLens, int kvHeads, int chunkTokens) {
    long n = 0;
    for (int ctx : contextLens) {
      n += ceilDiv(ctx, chunkTokens);
    }
    return n * kvHeads;
  }

  /**
   * The work list, longest chunk first, equal lengths in the natural (seq, chunk, kvHead) order: what a
   * stable sort of the natural list by length gives, built without sorting every item. Only a sequence's
   * last chunk can be shorter than {@code chunkTokens}, so the full chunks come first in natural order and
   * then the short last chunks, ordered by (length descending, sequence) over the sequences alone, each
   * with its kv heads in order. This runs on the host before every decode step (2048 items at batch 256
   * and 8 kv heads), where sorting boxed item indices took longer than the rest of the step's packing.
   */
  private static int[] orderedItems(
      int[] contextLens, int[] chunks, int kvHeads, int chunkTokens, int numItems) {
    int[] items = new int[numItems * 4];
    int n = 0;
    int shortCount = 0;
    for (int s = 0; s < contextLens.length; s++) {
      int lastLength = contextLens[s] - (chunks[s] - 1) * chunkTokens;
      int fullChunks = lastLength == chunkTokens ? chunks[s] : chunks[s] - 1;
      for (int c = 0; c < fullChunks; c++) {
        for (int h = 0; h < kvHeads; h++) {
          items[4 * n] = s;
          items[4 * n + 1] = h;
          items[4 * n + 2] = c;
          n++;
        }
      }
      if (fullChunks < chunks[s]) shortCount++;
    }
    // Short last chunks: key (chunkTokens - length) in the high half, the sequence in the low half, so an
    // ascending sort of the keys is length descending and, among equal lengths, sequence ascending.
    long[] keys = new long[shortCount];
    int k = 0;
    for (int s = 0; s < contextLens.length; s++) {
      int lastLength = contextLens[s] - (chunks[s] - 1) * chunkTokens;
      if (lastLength != chunkTokens) keys[k++] = ((long) (chunkTokens - lastLength) << 32) | s;
    }
    Arrays.sort(keys);
    for (long key : keys) {
      int s = (int) key;
      for (int h = 0; h < kvHeads; h++) {
        items[4 * n] = s;
        items[4 * n + 1] = h;
        items[4 * n + 2] = chunks[s] - 1;
        n++;
      }
    }
    return items;
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  private static int roundUp(int a, int b) {
    return ceilDiv(a, b) * b;
  }

  public int batch() {
    return batch;
  }

  public int kvHeads() {
    return kvHeads;
  }

  /** Positions per chunk, a multiple of {@link #STAGE_TOKENS}. */
  public int chunkTokens() {
    return chunkTokens;
  }

  public int numItems() {
    return workItems.length / 4;
  }

  /** (numItems, 4) int32: seq, kvHead, chunk, 0. A copy. */
  public int[] workItems() {
    return workItems.clone();
  }

  /** (batch) int32: first partial slot of each multi-chunk sequence, -1 for single-chunk ones. */
  public int[] partialBase() {
    return partialBase.clone();
  }

  /** Partial slots of the launch; 0 when no sequence is split. */
  public int numPartials() {
    return numPartials;
  }

  /** The most chunks any sequence has. */
  public int maxChunks() {
    return maxChunks;
  }

  /** Whether the split kernel must be followed by the combine kernel. */
  public boolean needsCombine() {
    return numPartials > 0;
  }

  /** int32 counters the persistent kernel needs (two reserved, one per pair), zeroed once. */
  public int counterCount() {
    return 2 + batch * kvHeads;
  }

  /** Split kernel: one CTA per item. */
  public LaunchShape splitLaunch(Kernel kernel) {
    return LaunchShape.grid1d(numItems(), kernel);
  }

  /** Combine kernel: one CTA per (kv head, sequence); single-chunk ones exit at once. */
  public LaunchShape combineLaunch(Kernel kernel) {
    return new LaunchShape(kvHeads, batch, 1, kernel.threads(), kernel.sharedBytes());
  }

  /**
   * Work-list rows CTA {@code cta} of a persistent grid of {@code grid} CTAs executes, in order:
   * the kernel's snake schedule ({@code decode_items} in decode_attention.cu), restated so that
   * its coverage and balance are tested on the CPU.
   */
  public int[] itemsOfCta(int cta, int grid) {
    ParamChecks.positive(grid, "grid");
    if (cta < 0 || cta >= grid) {
      throw new IllegalArgumentException("cta must be in [0, " + grid + ") but is " + cta);
    }
    int n = numItems();
    int[] out = new int[(n + grid - 1) / grid];
    int count = 0;
    for (int round = 0; (long) round * grid < n; round++) {
      int i = round * grid + ((round & 1) == 1 ? grid - 1 - cta : cta);
      if (i < n) {
        out[count++] = i;
      }
    }
    return Arrays.copyOf(out, count);
  }

  /** Persistent kernel: as many CTAs as fit at once, never more than there are items. */
  public LaunchShape persistentLaunch(Kernel kernel, int slots) {
    ParamChecks.positive(slots, "slots");
    return LaunchShape.grid1d(Math.min(slots, numItems()), kernel);
  }
}
