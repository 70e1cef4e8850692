package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.engine.ForwardBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * What the CUDA backend needs to know about one {@link ForwardBatch} before launching anything: how
 * its rows split between the two attention kernels and whether a decode graph can run it.
 *
 * <p>A <em>span</em> is a run of rows of one sequence at consecutive positions (two sequences never
 * share a block, so the first block of a row's table names its sequence). The batch's leading
 * spans that start at position 0 (prompts or first prompt chunks, which the model runner puts
 * first) form the <em>fresh</em> rows {@code [0, freshRows)}: they attend only to each other, which
 * the causal prefill kernel computes from the step's own K/V. Every other row (decode tokens and
 * later prompt chunks) attends over the paged cache, one row per "sequence" of the decode kernel,
 * after the step's K/V have been appended. When {@code freshAllowed} is false (no prefill kernel
 * for the model's head dim) every row goes the paged way.
 */
public final class StepPlan {

  private final int rows;
  private final int freshRows;
  private final int[] freshStarts; // (numFresh + 1) row offsets of the fresh spans
  private final int maxFreshLength;
  private final boolean decodeOnly;
  private final boolean sampleIdentity;
  private final int tableStride;

  private StepPlan(int rows, int freshRows, int[] freshStarts, int maxFreshLength, boolean decodeOnly,
      boolean sampleIdentity, int tableStride) {
    this.rows = rows;
    this.freshRows = freshRows;
    this.freshStarts = freshStarts;
    this.maxFreshLength = maxFreshLength;
    this.decodeOnly = decodeOnly;
    this.sampleIdentity = sampleIdentity;
    this.tableStride = tableStride;
  }

  /**
   * Checks {@code batch} and plans it.
   *
   * @param blockSize tokens per KV block
   * @param freshAllowed whether fresh spans may go to the prefill kernel
   */
  public static StepPlan of(ForwardBatch batch, int blockSize, boolean freshAllowed) {
    int n = batch.numTokens();
    check(batch, blockSize);
    List<Integer> starts = new ArrayList<>();
    int row = 0;
    int maxLen = 0;
    boolean everySpanSingle = true;
    int freshEnd = 0;
    boolean freshPrefix = freshAllowed;
    while (row < n) {
      int end = row + 1;
      while (end < n && continues(batch, end)) {
        end++;
      }
      everySpanSingle &= end - row == 1;
      if (freshPrefix && batch.positions()[row] == 0) {
        starts.add(row);
        maxLen = Math.max(maxLen, end - row);
        freshEnd = end;
      } else {
        freshPrefix = false;
      }
      row = end;
    }
    starts.add(freshEnd);
    int[] sample = batch.sampleRows();
    boolean identity = sample.length == n;
    for (int i = 0; identity && i < n; i++) {
      identity = sample[i] == i;
    }
    int stride = 1;
    for (int r = freshEnd; r < n; r++) {
      stride = Math.max(stride, blocksFor(batch.contextLens()[r], blockSize));
    }
    int[] freshStarts = starts.stream().mapToInt(Integer::intValue).toArray();
    return new StepPlan(n, freshEnd, freshStarts, maxLen, everySpanSingle && identity, identity, stride);
  }

  /** Whether row {@code r} continues row {@code r - 1}'s span: same sequence, next position. */
  private static boolean continues(ForwardBatch b, int r) {
    return b.blockTables()[r][0] == b.blockTables()[r - 1][0] && b.positions()[r] == b.positions()[r - 1] + 1;
  }

  public static int blocksFor(int tokens, int blockSize) {
    return (tokens + blockSize - 1) / blockSize;
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

  /** Rows (tokens) of the batch. */
  public int rows() {
    return rows;
  }

  /** Rows {@code [0, freshRows)} go to the prefill kernel; the rest attend over the paged cache. */
  public int freshRows() {
    return freshRows;
  }

  /** Fresh spans (sequences of the prefill kernel). */
  public int freshSpans() {
    return freshStarts.length - 1;
  }

  /** (freshSpans + 1) row offsets: span s is rows [starts[s], starts[s + 1]). A copy. */
  public int[] freshStarts() {
    return freshStarts.clone();
  }

  public int maxFreshLength() {
    return maxFreshLength;
  }

  /** Rows that attend over the paged cache: {@code [freshRows, rows)}. */
  public int pagedRows() {
    return rows - freshRows;
  }

  /**
   * Every row is its own sequence's only row this step and is sampled, in order: a pure decode
   * step, which a decode graph can run (new one-token prompts included).
   */
  public boolean decodeOnly() {
    return decodeOnly;
  }

  /** The sample rows are exactly 0..rows-1: the LM head needs no gather. */
  public boolean sampleIdentity() {
    return sampleIdentity;
  }

  /** Block-table entries per paged row this step: the most blocks any paged row's context needs. */
  public int tableStride() {
    return tableStride;
  }
}
