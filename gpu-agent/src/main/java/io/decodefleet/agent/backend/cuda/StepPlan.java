package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.engine.ForwardBatch;
import java.util.Arrays;

/**
 * What the CUDA backend needs to know about one {@link ForwardBatch} before launching anything: how
 * its rows split between the three attention kernels, in what order they are launched, and whether
 * a decode graph can run it.
 *
 * <p>A <em>span</em> is a run of rows of one sequence at consecutive positions (rows of one
 * sequence share one block table; two live sequences never have equal tables, since the block
 * that holds a position still to be computed belongs to one sequence alone). Spans fall into three
 * groups, launched in this order:
 * <ol>
 *   <li><em>fresh</em> spans, starting at position 0 (whole prompts, first chunks): they attend
 *       only to each other, which the causal prefill kernel computes from the step's own K/V;
 *   <li><em>continued</em> spans starting past 0 (later chunks of a chunked prompt; prompts whose
 *       leading blocks came from the prefix cache) of at least {@code minContinuedRows} rows (and
 *       two): the paged prefill kernel attends them over the cache, their own K/V appended first.
 *       The backend asks for as many rows as one of its CTAs holds ({@code 64 / group}): a shorter
 *       span would run on a few CTAs streaming the whole prefix, where the decode kernel splits
 *       the prefix of each row over the whole GPU (kernels/NOTES.md);
 *   <li><em>single</em> rows (decode tokens, one-row chunks, and every row of a group the model's
 *       kernels do not cover): the decode kernel, one row per kernel "sequence", over the cache.
 * </ol>
 * The model runner puts new sequences first and running ones after, in admission order, so the
 * groups interleave in its batches (a prefix-cache hit leads, a chunk sits between decodes). Every
 * launch but attention treats rows independently, so the backend runs the batch in the plan's
 * order ({@link #batch()}: rows permuted, sample rows renumbered to follow them, so the logits of
 * sample row i still come back i-th) and each group is a contiguous range of rows. Within a group
 * rows keep the runner's order; a batch already in group order is used as it is.
 */
public final class StepPlan {

  private final ForwardBatch batch;
  private final int[] order; // (rows) the original row at each launch row; null: identity
  private final int freshRows;
  private final int[] freshStarts; // (freshSpans + 1) row offsets of the fresh spans
  private final int maxFreshLength;
  private final int[] continuedStarts; // (continuedSpans + 1) row offsets, the first = freshRows
  private final int maxContinuedLength;
  private final boolean decodeOnly;
  private final boolean sampleIdentity;
  private final int tableStride;

  private StepPlan(ForwardBatch batch, int[] order, int freshRows, int[] freshStarts, int maxFreshLength,
      int[] continuedStarts, int maxContinuedLength, boolean decodeOnly, boolean sampleIdentity, int tableStride) {
    this.batch = batch;
    this.order = order;
    this.freshRows = freshRows;
    this.freshStarts = freshStarts;
    this.maxFreshLength = maxFreshLength;
    this.continuedStarts = continuedStarts;
    this.maxContinuedLength = maxContinuedLength;
    this.decodeOnly = decodeOnly;
    this.sampleIdentity = sampleIdentity;
    this.tableStride = tableStride;
  }

  /**
   * Checks {@code batch} and plans it with fresh spans on the prefill kernel when {@code
   * freshAllowed}, and no continued group (what the backend did before the paged prefill kernel).
   */
  public static StepPlan of(ForwardBatch batch, int blockSize, boolean freshAllowed) {
    return of(batch, blockSize, freshAllowed, 0);
  }

  /**
   * Checks {@code batch} and plans it.
   *
   * @param blockSize tokens per KV block
   * @param freshAllowed whether fresh spans may go to the prefill kernel (else their rows are single)
   * @param minContinuedRows the fewest rows of a span for the paged prefill kernel (at least 2 are
   *     taken); 0: no continued group, every such row is single
   */
  public static StepPlan of(ForwardBatch batch, int blockSize, boolean freshAllowed, int minContinuedRows) {
    int n = batch.numTokens();
    check(batch, blockSize);
    // Per span, in the runner's order: its first row, its length, its group (0 fresh, 1 continued, 2 single).
    int[] spanStart = new int[n];
    int[] spanLength = new int[n];
    int[] spanGroup = new int[n];
    int spans = 0;
    int[] groupRows = new int[3];
    int[] groupSpans = new int[3];
    boolean everySpanSingle = true;
    for (int row = 0; row < n; ) {
      int end = row + 1;
      while (end < n && continues(batch, end)) {
        end++;
      }
      int length = end - row;
      everySpanSingle &= length == 1;
      int group;
      if (freshAllowed && batch.positions()[row] == 0) {
        group = 0;
      } else if (minContinuedRows > 0 && length >= Math.max(2, minContinuedRows)) {
        group = 1;
      } else {
        group = 2;
      }
      spanStart[spans] = row;
      spanLength[spans] = length;
      spanGroup[spans++] = group;
      groupRows[group] += length;
      groupSpans[group] += group == 2 ? length : 1;
      row = end;
    }

    int[] order = new int[n];
    int[] freshStarts = new int[groupSpans[0] + 1];
    int[] continuedStarts = new int[groupSpans[1] + 1];
    int[] next = {0, groupRows[0], groupRows[0] + groupRows[1]};
    int[] nextSpan = {0, 0};
    int maxFresh = 0;
    int maxContinued = 0;
    int stride = 1;
    for (int s = 0; s < spans; s++) {
      int g = spanGroup[s];
      int len = spanLength[s];
      if (g == 0) {
        freshStarts[nextSpan[0]++] = next[0];
        maxFresh = Math.max(maxFresh, len);
      } else if (g == 1) {
        continuedStarts[nextSpan[1]++] = next[1];
        maxContinued = Math.max(maxContinued, len);
      }
      if (g != 0) {
        // Continued spans read the table up to their last row, single rows up to themselves.
        for (int r = spanStart[s]; r < spanStart[s] + len; r++) {
          stride = Math.max(stride, blocksFor(batch.contextLens()[r], blockSize));
        }
      }
      for (int i = 0; i < len; i++) {
        order[next[g]++] = spanStart[s] + i;
      }
    }
    freshStarts[groupSpans[0]] = groupRows[0];
    continuedStarts[groupSpans[1]] = groupRows[0] + groupRows[1];

    boolean identityOrder = true;
    for (int i = 0; identityOrder && i < n; i++) {
      identityOrder = order[i] == i;
    }
    ForwardBatch launched = identityOrder ? batch : permuted(batch, order);
    boolean decodeOnly = everySpanSingle && isIdentity(batch.sampleRows(), n);
    return new StepPlan(launched, identityOrder ? null : order, groupRows[0], freshStarts, maxFresh,
        continuedStarts, maxContinued, decodeOnly, isIdentity(launched.sampleRows(), n), stride);
  }

  /** Whether row {@code r} continues row {@code r - 1}'s span: same sequence (same table), next position. */
  private static boolean continues(ForwardBatch b, int r) {
    int[] t = b.blockTables()[r];
    int[] u = b.blockTables()[r - 1];
    // The runner hands a sequence's rows one table array, so the content comparison rarely runs.
    return b.positions()[r] == b.positions()[r - 1] + 1 && (t == u || Arrays.equals(t, u));
  }

  private static boolean isIdentity(int[] sample, int n) {
    boolean identity = sample.length == n;
    for (int i = 0; identity && i < n; i++) {
      identity = sample[i] == i;
    }
    return identity;
  }

  /** {@code b} with launch row i holding row {@code order[i]}, its sample rows renumbered alike. */
  private static ForwardBatch permuted(ForwardBatch b, int[] order) {
    int n = order.length;
    int[] launchRowOf = new int[n];
    int[] tokens = new int[n];
    int[] positions = new int[n];
    int[] slots = new int[n];
    int[][] tables = new int[n][];
    int[] contexts = new int[n];
    for (int i = 0; i < n; i++) {
      int r = order[i];
      launchRowOf[r] = i;
      tokens[i] = b.tokens()[r];
      positions[i] = b.positions()[r];
      slots[i] = b.slotMapping()[r];
      tables[i] = b.blockTables()[r];
      contexts[i] = b.contextLens()[r];
    }
    int[] sample = new int[b.numSampled()];
    for (int i = 0; i < sample.length; i++) {
      sample[i] = launchRowOf[b.sampleRows()[i]];
    }
    return new ForwardBatch(tokens, positions, slots, tables, contexts, sample);
  }

  public static int blocksFor(int tokens, int blockSize) {
    return (tokens + blockSize - 1) / blockSize;
  }

  /**
   * Contexts of rows [from, to) of the batch, then 1 for each padding row up to {@code to}: what a
   * decode-attention plan of those rows (a graph bucket padded past the batch) is made over.
   */
  public static int[] paddedContexts(ForwardBatch batch, int from, int to) {
    int[] out = new int[to - from];
    for (int r = from; r < to; r++) {
      out[r - from] = r < batch.numTokens() ? batch.contextLens()[r] : 1;
    }
    return out;
  }

  private static void check(ForwardBatch b, int blockSize) {
    int n = b.numTokens();
    if (n == 0) {
      throw new IllegalArgumentException("forward batch has no tokens");
    }
    if (b.positions().length != n || b.slotMapping().length != n || b.blockTables().length != n
        || b.contextLens().length != n) {
      throw new IllegalArgumentException("forward batch arrays disagree: " + n + " tokens, "
          + b.positions().length + " positions, " + b.slotMapping().length + " slots, " + b.blockTables().length
          + " block tables, " + b.contextLens().length + " context lengths");
    }
    for (int r = 0; r < n; r++) {
      int ctx = b.contextLens()[r];
      if (ctx < 1) {
        throw new IllegalArgumentException("contextLens[" + r + "] must be >= 1 but is " + ctx);
      }
      int[] table = b.blockTables()[r];
      if (table == null || table.length < blocksFor(ctx, blockSize)) {
        throw new IllegalArgumentException("blockTables[" + r + "] has " + (table == null ? 0 : table.length)
            + " blocks but contextLens[" + r + "] = " + ctx + " needs " + blocksFor(ctx, blockSize));
      }
    }
    for (int i = 0; i < b.numSampled(); i++) {
      int s = b.sampleRows()[i];
      if (s < 0 || s >= n) {
        throw new IllegalArgumentException("sampleRows[" + i + "] = " + s + " is not a row of the " + n + "-row batch");
      }
    }
  }

  /** The batch in launch order: the planned one itself when it already is in group order. */
  public ForwardBatch batch() {
    return batch;
  }

  /** (rows) the planned batch's row at each launch row. A copy. */
  public int[] order() {
    if (order != null) return order.clone();
    int[] identity = new int[rows()];
    for (int i = 0; i < identity.length; i++) {
      identity[i] = i;
    }
    return identity;
  }

  /** Whether the launch order differs from the planned batch's. */
  public boolean reordered() {
    return order != null;
  }

  /** Rows (tokens) of the batch. */
  public int rows() {
    return batch.numTokens();
  }

  /** Launch rows {@code [0, freshRows)} go to the prefill kernel. */
  public int freshRows() {
    return freshRows;
  }

  /** Fresh spans (sequences of the prefill kernel). */
  public int freshSpans() {
    return freshStarts.length - 1;
  }

  /** (freshSpans + 1) launch-row offsets: fresh span s is rows [starts[s], starts[s + 1]). A copy. */
  public int[] freshStarts() {
    return freshStarts.clone();
  }

  public int maxFreshLength() {
    return maxFreshLength;
  }

  /** Rows of the continued spans: launch rows {@code [freshRows, firstSingle)}. */
  public int continuedRows() {
    return continuedStarts[continuedStarts.length - 1] - freshRows;
  }

  /** Continued spans (spans of the paged prefill kernel). */
  public int continuedSpans() {
    return continuedStarts.length - 1;
  }

  /**
   * (continuedSpans + 1) launch-row offsets: continued span s is rows [starts[s], starts[s + 1]);
   * the first is {@link #freshRows}. A copy.
   */
  public int[] continuedStarts() {
    return continuedStarts.clone();
  }

  public int maxContinuedLength() {
    return maxContinuedLength;
  }

  /** The first single row: rows {@code [firstSingle, rows)} go to the decode kernel. */
  public int firstSingle() {
    return freshRows + continuedRows();
  }

  /** Single rows, which attend over the paged cache one row per decode-kernel sequence. */
  public int pagedRows() {
    return rows() - firstSingle();
  }

  /**
   * Every row is its own sequence's only row this step and is sampled, in order: a pure decode
   * step, which a decode graph can run as planned (new one-token prompts included).
   */
  public boolean decodeOnly() {
    return decodeOnly;
  }

  /** The launch order's sample rows are exactly 0..rows-1: the LM head needs no gather. */
  public boolean sampleIdentity() {
    return sampleIdentity;
  }

  /**
   * Block-table entries per staged table this step: the most blocks any continued span's or
   * single row's context needs.
   */
  public int tableStride() {
    return tableStride;
  }
}
