package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.kernels.cuda.DecodeAttentionPlan;
import java.nio.ByteBuffer;

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
 *   contextLens (paged)        context of each paged row; padding rows 1
 *   partialBase (paged)        decode-attention plan: first partial slot per paged row
 *   workItems   (items, 4)     decode-attention plan: seq, kvHead, chunk, 0
 *   blockTables (paged, stride) block table of each paged row; padding rows all block 0
 * </pre>
 * The block tables come last and are the only section whose used size varies with the step at a
 * fixed capacity, so a step copies {@code [0, blockTables + paged * stride * 4)} and no more.
 * Paged rows are the rows {@code [firstPaged, rows)} of the batch plus its padding rows.
 *
 * @param rows rows capacity (a graph's bucket, or an eager step's own row count)
 * @param sampled sample-row capacity
 * @param fresh fresh-span capacity
 * @param paged paged-row capacity
 * @param items work-item capacity
 * @param tableInts block-table capacity in int32
 */
public record StepInputs(int rows, int sampled, int fresh, int paged, int items, long tableInts) {

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

  public long contextLens() {
    return after(seqStarts(), fresh + 1L);
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
   * @param paddedRows rows the launches cover: the batch's rows, or its graph bucket (≥ rows);
   *     rows past the batch are padding
   * @param firstPaged first row attending over the paged cache (rows before it are fresh spans)
   * @param stride block-table entries per paged row
   * @param attention the decode-attention plan over the paged rows' contexts, or null when the
   *     plain paged kernel runs (dims then hold only the stride)
   */
  public long write(ByteBuffer out, ForwardBatch batch, StepPlan plan, int paddedRows, int firstPaged, int stride,
      DecodeAttentionPlan attention) {
    int n = batch.numTokens();
    int pagedRows = paddedRows - firstPaged;
    int numItems = attention == null ? 0 : attention.numItems();
    long tableInts = (long) pagedRows * stride;
    int[] freshStarts = firstPaged == 0 ? new int[] {0} : plan.freshStarts();
    requireFits(paddedRows, batch.numSampled(), freshStarts.length - 1, pagedRows, numItems, tableInts);

    putInt(out, dims(), 0, numItems);
    putInt(out, dims(), 1, attention == null ? 0 : attention.chunkTokens());
    putInt(out, dims(), 2, stride);
    putInt(out, dims(), 3, n);
    for (int r = 0; r < paddedRows; r++) {
      boolean real = r < n;
      putInt(out, tokens(), r, real ? batch.tokens()[r] : 0);
      putInt(out, positions(), r, real ? batch.positions()[r] : 0);
      putInt(out, slots(), r, real ? batch.slotMapping()[r] : -1);
    }
    for (int i = 0; i < batch.numSampled(); i++) {
      putInt(out, sampleRows(), i, batch.sampleRows()[i]);
    }
    for (int s = 0; s < freshStarts.length; s++) {
      putInt(out, seqStarts(), s, freshStarts[s]);
    }
    int[] partialBase = attention == null ? null : attention.partialBase();
    for (int p = 0; p < pagedRows; p++) {
      int r = firstPaged + p;
      boolean real = r < n;
      putInt(out, contextLens(), p, real ? batch.contextLens()[r] : 1);
      putInt(out, partialBase(), p, partialBase == null ? -1 : partialBase[p]);
      long rowStart = blockTables() + 4L * p * stride;
      int used = 0;
      if (real) {
        // The stride was planned from the contexts, so min(stride, table) covers every block the
        // row reads; entries past its context are copied too and never read.
        int[] table = batch.blockTables()[r];
        used = Math.min(stride, table.length);
        for (int b = 0; b < used; b++) {
          out.putInt((int) (rowStart + 4L * b), table[b]);
        }
      }
      for (int b = used; b < stride; b++) {
        out.putInt((int) (rowStart + 4L * b), 0);
      }
    }
    if (attention != null) {
      int[] items = attention.workItems();
      for (int i = 0; i < items.length; i++) {
        putInt(out, workItems(), i, items[i]);
      }
    }
    return bytesToCopy(tableInts);
  }

  private void requireFits(int rowsNeeded, int sampledNeeded, int freshNeeded, int pagedNeeded, int itemsNeeded,
      long tableIntsNeeded) {
    if (rowsNeeded > rows || sampledNeeded > sampled || freshNeeded > fresh || pagedNeeded > paged
        || itemsNeeded > items || tableIntsNeeded > tableInts) {
      throw new IllegalArgumentException(String.format(
          "step inputs exceed the staging layout: rows %d/%d, sampled %d/%d, fresh spans %d/%d, paged rows %d/%d,"
              + " work items %d/%d, block-table entries %d/%d",
          rowsNeeded, rows, sampledNeeded, sampled, freshNeeded, fresh, pagedNeeded, paged, itemsNeeded, items,
          tableIntsNeeded, tableInts));
    }
  }

  private static void putInt(ByteBuffer out, long section, int index, int value) {
    out.putInt((int) (section + 4L * index), value);
  }

  /** The layout an eager step of this shape needs exactly (no padding rows). */
  public static StepInputs exactFor(StepPlan plan, int sampled, int firstPaged, int stride, int items) {
    int paged = plan.rows() - firstPaged;
    int fresh = firstPaged == 0 ? 0 : plan.freshSpans();
    return new StepInputs(plan.rows(), sampled, fresh, paged, items, (long) paged * stride);
  }
}
