package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.kernels.cuda.DecodeAttentionPlan;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;

/**
 * The int32 inputs of one step, laid out back to back so that one host-to-device copy moves them
 * all: written into pinned host memory, copied to a device buffer of the same layout whose section
 * addresses the launches (or a captured graph) read.
 *
 * <p>Sections, each starting on a 64-byte boundary, in this order:
 * <pre>
 *   dims        (4)            numItems, chunkTokens, blockTableStride of the step's attention plan;
 *                              the batch's real rows (the MoE kernels route no padding row)
 *   tokens      (rows)         token ids; padding rows 0
 *   positions   (rows)         positions; padding rows 0
 *   slots       (rows)         KV slots; padding rows -1 (not stored)
 *   sampleRows  (sampled)      rows whose logits are wanted
 *   seqStarts   (fresh + 1)    row offsets of the fresh (prefill-kernel) spans
 *   spanStarts  (continued + 1) row offsets of the continued (paged-prefill-kernel) spans
 *   contextLens (paged)        context of each paged row; padding rows 1
 *   partialBase (paged)        decode-attention plan: first partial slot per paged row
 *   workItems   (items, 4)     decode-attention plan: seq, kvHead, chunk, 0
 *   blockTables (continued + paged, stride) block table of each continued span, then of each
 *                              paged row; padding rows all block 0
 * </pre>
 * The block tables come last and are the only section whose used size varies with the step at a
 * fixed capacity, so a step copies {@code [0, blockTables + (continued + paged) * stride * 4)} and
 * no more. Paged rows are the single rows of the step's plan (every row on a graph replay) plus its
 * padding rows.
 *
 * @param rows rows capacity (a graph's bucket, or an eager step's own row count)
 * @param sampled sample-row capacity
 * @param fresh fresh-span capacity
 * @param continued continued-span capacity
 * @param paged paged-row capacity
 * @param items work-item capacity
 * @param tableInts block-table capacity in int32
 */
public record StepInputs(int rows, int sampled, int fresh, int continued, int paged, int items, long tableInts) {

  private static final int ALIGN = 64;
  /** dims entries. */
  public static final int DIMS = 4;

  public long dims() {
    return 0;
  }

  /** dims[3]: the batch's rows, padding excluded (read on the device by the MoE kernels). */
  public long liveRows() {
    return dims() + 12;
  }

  public long tokens() {
    return after(dims(), DIMS);
  }

  public long positions() {
    return after(tokens(), rows);
  }

  public long slots() {
    return after(positions(), rows);
  }

  public long sampleRows() {
    return after(slots(), rows);
  }

  public long seqStarts() {
    return after(sampleRows(), sampled);
  }

  public long spanStarts() {
    return after(seqStarts(), fresh + 1L);
  }

  public long contextLens() {
    return after(spanStarts(), continued + 1L);
  }

  public long partialBase() {
    return after(contextLens(), paged);
  }

  public long workItems() {
    return after(partialBase(), paged);
  }

  public long blockTables() {
    return after(workItems(), 4L * items);
  }

  /** Bytes of the whole layout at full capacity. */
  public long capacityBytes() {
    return align(blockTables() + 4 * tableInts);
  }

  /** Bytes a step must copy when its block tables hold {@code usedTableInts} entries. */
  public long bytesToCopy(long usedTableInts) {
    return blockTables() + 4 * usedTableInts;
  }

  private static long after(long start, long ints) {
    return align(start + 4 * Math.max(0, ints));
  }

  private static long align(long bytes) {
    return (bytes + ALIGN - 1) / ALIGN * ALIGN;
  }

  /**
   * Writes one step into {@code out} (little-endian, at the layout's offsets) and returns the bytes
   * to copy.
   *
   * @param batch the step's rows in launch order: the plan's {@link StepPlan#batch()}, or on a
   *     graph replay (every row paged) the planned batch itself
   * @param paddedRows rows the launches cover: the batch's rows, or its graph bucket (≥ rows);
   *     rows past the batch are padding
   * @param allPaged every row is a paged row (a graph replay, or no tensor-core kernels): the
   *     plan's fresh and continued groups are not staged
   * @param stride block-table entries per staged table
   * @param attention the decode-attention plan over the paged rows' contexts, or null when the
   *     plain paged kernel runs or no row is paged (dims then hold only the stride)
   */
  public long write(ByteBuffer out, ForwardBatch batch, StepPlan plan, int paddedRows, boolean allPaged, int stride,
      DecodeAttentionPlan attention) {
    int n = batch.numTokens();
    int firstPaged = allPaged ? 0 : plan.firstSingle();
    int pagedRows = paddedRows - firstPaged;
    int[] freshStarts = allPaged ? new int[] {0} : plan.freshStarts();
    int[] spanStarts = allPaged ? new int[] {0} : plan.continuedStarts();
    int spans = spanStarts.length - 1;
    int numItems = attention == null ? 0 : attention.numItems();
    long tableInts = (long) (spans + pagedRows) * stride;
    requireFits(paddedRows, batch.numSampled(), freshStarts.length - 1, spans, pagedRows, numItems, tableInts);

    // Bulk puts through one int view: this runs on the host before every step (at batch 256 the block
    // tables alone are 16k entries), and an absolute put per int cost more than the rest of the packing.
    ByteBuffer whole = out.duplicate().order(out.order());
    whole.clear(); // sections are at absolute offsets, whatever out's position
    IntBuffer ints = whole.asIntBuffer();
    putInt(ints, dims(), 0, numItems);
    putInt(ints, dims(), 1, attention == null ? 0 : attention.chunkTokens());
    putInt(ints, dims(), 2, stride);
    putInt(ints, dims(), 3, n);
    int real = Math.min(n, paddedRows);
    ints.put(index(tokens()), batch.tokens(), 0, real);
    ints.put(index(positions()), batch.positions(), 0, real);
    ints.put(index(slots()), batch.slotMapping(), 0, real);
    for (int r = real; r < paddedRows; r++) {
      putInt(ints, tokens(), r, 0);
      putInt(ints, positions(), r, 0);
      putInt(ints, slots(), r, -1);
    }
    ints.put(index(sampleRows()), batch.sampleRows(), 0, batch.numSampled());
    ints.put(index(seqStarts()), freshStarts, 0, freshStarts.length);
    ints.put(index(spanStarts()), spanStarts, 0, spanStarts.length);
    for (int s = 0; s < spans; s++) {
      // A span's last row reads the most blocks; the stride was planned to cover it.
      putTable(ints, s, stride, batch.blockTables()[spanStarts[s]]);
    }
    int[] partialBase = attention == null ? null : attention.partialBase();
    int realPaged = Math.max(0, Math.min(pagedRows, n - firstPaged));
    ints.put(index(contextLens()), batch.contextLens(), firstPaged, realPaged);
    if (partialBase != null) {
      ints.put(index(partialBase()), partialBase, 0, pagedRows);
    }
    for (int p = 0; p < pagedRows; p++) {
      int r = firstPaged + p;
      boolean isReal = r < n;
      if (!isReal) putInt(ints, contextLens(), p, 1);
      if (partialBase == null) putInt(ints, partialBase(), p, -1);
      putTable(ints, spans + p, stride, isReal ? batch.blockTables()[r] : null);
    }
    if (attention != null) {
      int[] items = attention.workItems();
      ints.put(index(workItems()), items, 0, items.length);
    }
    return bytesToCopy(tableInts);
  }

  /**
   * Staged table {@code index}: the first {@code stride} entries of {@code table} (entries past a
   * row's context are copied too and never read), then block 0; a padding row's (null) all block 0.
   */
  private void putTable(IntBuffer ints, int index, int stride, int[] table) {
    int rowStart = index(blockTables()) + index * stride;
    int used = table == null ? 0 : Math.min(stride, table.length);
    if (used > 0) ints.put(rowStart, table, 0, used);
    for (int b = used; b < stride; b++) {
      ints.put(rowStart + b, 0);
    }
  }

  private void requireFits(int rowsNeeded, int sampledNeeded, int freshNeeded, int continuedNeeded, int pagedNeeded,
      int itemsNeeded, long tableIntsNeeded) {
    if (rowsNeeded > rows || sampledNeeded > sampled || freshNeeded > fresh || continuedNeeded > continued
        || pagedNeeded > paged || itemsNeeded > items || tableIntsNeeded > tableInts) {
      throw new IllegalArgumentException(String.format(
          "step inputs exceed the staging layout: rows %d/%d, sampled %d/%d, fresh spans %d/%d, continued spans"
              + " %d/%d, paged rows %d/%d, work items %d/%d, block-table entries %d/%d",
          rowsNeeded, rows, sampledNeeded, sampled, freshNeeded, fresh, continuedNeeded, continued, pagedNeeded,
          paged, itemsNeeded, items, tableIntsNeeded, tableInts));
    }
  }

  private static void putInt(IntBuffer ints, long section, int index, int value) {
    ints.put(index(section) + index, value);
  }

  /** The int index of a section's byte offset (sections are 64-byte aligned). */
  private static int index(long section) {
    return (int) (section / 4);
  }

  /** The layout an eager step of this plan needs exactly (no padding rows), its groups staged. */
  public static StepInputs exactFor(StepPlan plan, int sampled, int stride, int items) {
    int paged = plan.pagedRows();
    int spans = plan.continuedSpans();
    long tableInts = (long) (spans + paged) * stride;
    return new StepInputs(plan.rows(), sampled, plan.freshSpans(), spans, paged, items, tableInts);
  }
}
