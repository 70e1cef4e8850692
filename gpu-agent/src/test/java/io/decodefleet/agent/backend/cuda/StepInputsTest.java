package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.kernels.cuda.DecodeAttentionPlan;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The staged int32 layout one host-to-device copy moves per step, and what a step writes into it. */
class StepInputsTest {

  private static final int BS = 16;

  @Test
  void sectionsAreAlignedInOrderAndDisjointWithTheBlockTablesLast() {
    StepInputs l = new StepInputs(24, 24, 0, 3, 24, 264, 27L * 8192);
    long[] starts = {l.dims(), l.tokens(), l.positions(), l.slots(), l.sampleRows(), l.seqStarts(), l.spanStarts(),
        l.contextLens(), l.partialBase(), l.workItems(), l.blockTables()};
    long[] ints = {StepInputs.DIMS, 24, 24, 24, 24, 1, 4, 24, 24, 4 * 264, 27L * 8192};
    for (int i = 0; i < starts.length; i++) {
      assertEquals(0, starts[i] % 64, "section " + i + " is not 64-byte aligned");
      if (i + 1 < starts.length) {
        assertTrue(starts[i] + 4 * ints[i] <= starts[i + 1], "section " + i + " runs into section " + (i + 1));
      }
    }
    assertTrue(l.capacityBytes() >= l.blockTables() + 4 * ints[10]);
    assertEquals(l.blockTables() + 4 * 3 * 64, l.bytesToCopy(3 * 64), "a step copies only the tables it uses");
  }

  @Test
  void aDecodeStepPaddedToItsBucketStoresNothingForPaddingAndPointsItAtBlockZero() {
    int[][] tables = {{7, 3}, {11, 2, 9}, {5}};
    int[] ctx = {20, 40, 1};
    ForwardBatch b = new ForwardBatch(new int[] {101, 102, 103}, new int[] {19, 39, 0},
        new int[] {3 * BS + 3, 9 * BS + 7, 5 * BS}, tables, ctx, new int[] {0, 1, 2});
    StepPlan plan = StepPlan.of(b, BS, true);
    int bucket = 4;
    int[] padded = {20, 40, 1, 1};
    DecodeAttentionPlan attention = DecodeAttentionPlan.plan(padded, 8, 264);
    StepInputs layout = new StepInputs(8, 8, 0, 0, 8, 264, 8L * 16);
    ByteBuffer buf = ByteBuffer.allocate((int) layout.capacityBytes()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < buf.capacity(); i += 4) {
      buf.putInt(i, 0x8badf00d); // poison: every int the step needs must be written
    }
    long bytes = layout.write(buf, b, plan, bucket, true, plan.tableStride(), attention);

    assertEquals(3, plan.tableStride());
    assertEquals(layout.bytesToCopy(4 * 3), bytes);
    assertEquals(attention.numItems(), at(buf, layout.dims(), 0));
    assertEquals(attention.chunkTokens(), at(buf, layout.dims(), 1));
    assertEquals(3, at(buf, layout.dims(), 2));
    assertEquals(3, buf.getInt((int) layout.liveRows()), "dims[3]: the batch's real rows, the padding row left out");
    int[] tokens = {101, 102, 103, 0};
    int[] positions = {19, 39, 0, 0};
    int[] slots = {3 * BS + 3, 9 * BS + 7, 5 * BS, -1};
    for (int r = 0; r < bucket; r++) {
      assertEquals(tokens[r], at(buf, layout.tokens(), r), "token of row " + r);
      assertEquals(positions[r], at(buf, layout.positions(), r), "position of row " + r);
      assertEquals(slots[r], at(buf, layout.slots(), r), "slot of row " + r + " (padding: -1, not stored)");
      assertEquals(padded[r], at(buf, layout.contextLens(), r), "context of row " + r);
      assertEquals(attention.partialBase()[r], at(buf, layout.partialBase(), r));
    }
    int[][] expectedTables = {{7, 3, 0}, {11, 2, 9}, {5, 0, 0}, {0, 0, 0}};
    for (int r = 0; r < bucket; r++) {
      for (int j = 0; j < 3; j++) {
        assertEquals(expectedTables[r][j], at(buf, layout.blockTables(), r * 3 + j), "table " + r + " entry " + j);
      }
    }
    int[] items = attention.workItems();
    for (int i = 0; i < items.length; i++) {
      assertEquals(items[i], at(buf, layout.workItems(), i), "work item int " + i);
    }
    assertEquals(0, at(buf, layout.seqStarts(), 0));
  }

  @Test
  void anEagerMixedStepStagesItsFreshSpansAndOnlyItsPagedRowsTables() {
    StepPlanTest.Builder b = new StepPlanTest.Builder();
    int[] prompt = {4, 6};
    for (int p = 0; p < 20; p++) {
      b.add(9, p, prompt[p / BS] * BS + p % BS, prompt, p + 1, p == 19);
    }
    int[] decoding = {1, 2, 3};
    b.add(8, 40, 3 * BS + 8, decoding, 41, true);
    ForwardBatch batch = b.build();
    StepPlan plan = StepPlan.of(batch, BS, true);
    DecodeAttentionPlan attention = DecodeAttentionPlan.plan(new int[] {41}, 2, 264);
    StepInputs layout = StepInputs.exactFor(plan, batch.numSampled(), plan.tableStride(), attention.numItems());
    ByteBuffer buf = ByteBuffer.allocate((int) layout.capacityBytes()).order(ByteOrder.LITTLE_ENDIAN);
    layout.write(buf, plan.batch(), plan, plan.rows(), false, plan.tableStride(), attention);
    assertEquals(20, plan.freshRows());
    assertEquals(1, layout.paged());
    assertEquals(0, at(buf, layout.seqStarts(), 0));
    assertEquals(20, at(buf, layout.seqStarts(), 1));
    assertEquals(41, at(buf, layout.contextLens(), 0), "the paged section starts at the first paged row");
    assertEquals(1, at(buf, layout.blockTables(), 0));
    assertEquals(3, at(buf, layout.blockTables(), 2));
    assertEquals(19, at(buf, layout.sampleRows(), 0));
    assertEquals(20, at(buf, layout.sampleRows(), 1));
  }

  @Test
  void continuedSpansStageTheirStartsAndTheirTablesAheadOfThePagedRowsTables() {
    StepPlanTest.Builder b = new StepPlanTest.Builder();
    int[] decoding = {1, 2, 3};
    b.add(8, 40, 3 * BS + 8, decoding, 41, true); // a decode, first in the runner's order
    int[] chunked = {5, 7};
    for (int p = 10; p < 30; p++) {
      b.add(9, p, chunked[p / BS] * BS + p % BS, chunked, p + 1, p == 29); // a later chunk, positions 10..29
    }
    ForwardBatch batch = b.build();
    StepPlan plan = StepPlan.of(batch, BS, true, 2);
    DecodeAttentionPlan attention = DecodeAttentionPlan.plan(new int[] {41}, 2, 264);
    StepInputs layout = StepInputs.exactFor(plan, batch.numSampled(), plan.tableStride(), attention.numItems());
    assertEquals(1, layout.continued());
    assertEquals(1, layout.paged());
    ByteBuffer buf = ByteBuffer.allocate((int) layout.capacityBytes()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < buf.capacity(); i += 4) {
      buf.putInt(i, 0x8badf00d);
    }
    long bytes = layout.write(buf, plan.batch(), plan, plan.rows(), false, plan.tableStride(), attention);
    assertEquals(3, plan.tableStride());
    assertEquals(layout.bytesToCopy(2 * 3), bytes, "one span's table and one paged row's");
    assertEquals(0, at(buf, layout.spanStarts(), 0));
    assertEquals(20, at(buf, layout.spanStarts(), 1));
    assertEquals(10, at(buf, layout.positions(), 0), "the span's first row gives its position");
    assertEquals(40, at(buf, layout.positions(), 20));
    int[] tables = {5, 7, 0, 1, 2, 3};
    for (int i = 0; i < tables.length; i++) {
      assertEquals(tables[i], at(buf, layout.blockTables(), i), "staged table entry " + i);
    }
    assertEquals(41, at(buf, layout.contextLens(), 0));
    assertEquals(20, at(buf, layout.sampleRows(), 0), "the decode's sample row, now launch row 20");
    assertEquals(19, at(buf, layout.sampleRows(), 1), "the chunk's last row");
  }

  @Test
  void aStepLargerThanTheLayoutIsRefusedNamingWhatOverflows() {
    int[][] tables = new int[3][];
    for (int i = 0; i < 3; i++) {
      tables[i] = new int[] {i};
    }
    ForwardBatch b = new ForwardBatch(new int[3], new int[] {1, 1, 1}, new int[] {1, 17, 33}, tables,
        new int[] {2, 2, 2}, new int[] {0, 1, 2});
    StepPlan plan = StepPlan.of(b, BS, true);
    StepInputs small = new StepInputs(2, 2, 0, 0, 2, 16, 2);
    ByteBuffer buf = ByteBuffer.allocate((int) small.capacityBytes()).order(ByteOrder.LITTLE_ENDIAN);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> small.write(buf, b, plan, 3, true, 1, null));
    assertTrue(e.getMessage().contains("rows 3/2"), e.getMessage());
  }

  private static int at(ByteBuffer buf, long section, int index) {
    return buf.getInt((int) (section + 4L * index));
  }
}
