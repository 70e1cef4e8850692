package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.ForwardBatch;
import org.junit.jupiter.api.Test;

/** How a batch's rows split between the three attention kernels, their launch order, and when a graph may run it. */
class StepPlanTest {

  private static final int BS = 4;

  /** Rows of one sequence at positions [from, from + count), owning {@code table}. */
  private static void rows(Builder b, int[] table, int from, int count, boolean sampled) {
    for (int i = 0; i < count; i++) {
      int p = from + i;
      b.add(7, p, table[p / BS] * BS + p % BS, table, p + 1, sampled && i == count - 1);
    }
  }

  @Test
  void freshSpansThenContinuedSpansThenSingleRowsEachGroupInTheRunnersOrder() {
    Builder b = new Builder();
    rows(b, new int[] {9, 3}, 0, 6, true); // a whole prompt: rows 0..5
    rows(b, new int[] {4}, 0, 3, false); // a first chunk, not sampled: rows 6..8
    rows(b, new int[] {1, 2, 5}, 9, 1, true); // a decode token at position 9: row 9
    rows(b, new int[] {6, 8, 0}, 4, 5, true); // a later chunk, positions 4..8: rows 10..14
    ForwardBatch batch = b.build();
    StepPlan p = StepPlan.of(batch, BS, true, 2);
    assertEquals(15, p.rows());
    assertEquals(9, p.freshRows());
    assertArrayEquals(new int[] {0, 6, 9}, p.freshStarts());
    assertEquals(6, p.maxFreshLength());
    assertEquals(1, p.continuedSpans());
    assertArrayEquals(new int[] {9, 14}, p.continuedStarts());
    assertEquals(5, p.continuedRows());
    assertEquals(5, p.maxContinuedLength());
    assertEquals(14, p.firstSingle());
    assertEquals(1, p.pagedRows());
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 9}, p.order());
    assertTrue(p.reordered());
    ForwardBatch launched = p.batch();
    assertEquals(9, launched.positions()[14], "the decode row is launched last");
    assertEquals(4, launched.positions()[9], "the chunk's first row follows the fresh rows");
    assertArrayEquals(new int[] {6, 8, 0}, launched.blockTables()[9]);
    assertEquals(8 * BS, launched.slotMapping()[9], "position 4 is offset 0 of the table's second block");
    assertArrayEquals(new int[] {5, 14, 13}, launched.sampleRows(),
        "sample rows follow their rows, in the batch's sample order");
    assertEquals(3, p.tableStride(), "position 9 needs 3 blocks of 4 (the chunk's last row too)");
    assertFalse(p.decodeOnly());
    assertFalse(p.sampleIdentity());
  }

  @Test
  void withoutTheContinuedGroupAChunksRowsAreSingleRowsAndTheRunnersOrderStands() {
    Builder b = new Builder();
    rows(b, new int[] {9, 3}, 0, 6, true);
    rows(b, new int[] {1, 2, 5}, 9, 1, true);
    rows(b, new int[] {6, 8, 0}, 4, 5, true);
    ForwardBatch batch = b.build();
    StepPlan p = StepPlan.of(batch, BS, true, 0);
    assertEquals(6, p.freshRows());
    assertEquals(0, p.continuedSpans());
    assertEquals(6, p.pagedRows());
    assertFalse(p.reordered());
    assertSame(batch, p.batch(), "a batch already in group order is launched as it is");
  }

  @Test
  void aPrefixCacheHitLeadingTheBatchIsLaunchedAfterTheFreshPromptBehindIt() {
    Builder b = new Builder();
    rows(b, new int[] {3, 7, 2}, 8, 3, true); // a new sequence whose first 8 positions were cached
    rows(b, new int[] {1, 2, 5}, 9, 1, true); // a decode
    rows(b, new int[] {9, 3}, 0, 6, true); // a whole prompt
    StepPlan p = StepPlan.of(b.build(), BS, true, 2);
    assertArrayEquals(new int[] {4, 5, 6, 7, 8, 9, 0, 1, 2, 3}, p.order());
    assertArrayEquals(new int[] {0, 6}, p.freshStarts());
    assertArrayEquals(new int[] {6, 9}, p.continuedStarts());
    assertEquals(9, p.firstSingle());
    assertEquals(8, p.batch().positions()[6]);
    assertArrayEquals(new int[] {8, 9, 5}, p.batch().sampleRows());
    assertEquals(3, p.tableStride());
  }

  @Test
  void aContinuedSpanOfOneRowIsASingleRow() {
    Builder b = new Builder();
    rows(b, new int[] {6, 8, 0}, 4, 5, true);
    rows(b, new int[] {3, 7, 2}, 10, 1, true); // a last chunk of one row: the decode kernel's kind of row
    StepPlan p = StepPlan.of(b.build(), BS, true, 2);
    assertEquals(1, p.continuedSpans());
    assertEquals(5, p.firstSingle());
    assertEquals(1, p.pagedRows());
    assertFalse(p.reordered());
  }

  @Test
  void aContinuedSpanShorterThanTheMinimumIsSingleRows() {
    Builder b = new Builder();
    rows(b, new int[] {6, 8, 0}, 4, 5, true); // 5 rows: fewer than one CTA's 8
    rows(b, new int[] {3, 7, 2}, 2, 8, true); // 8 rows: one CTA's worth
    StepPlan p = StepPlan.of(b.build(), BS, true, 8);
    assertEquals(1, p.continuedSpans());
    assertArrayEquals(new int[] {0, 8}, p.continuedStarts());
    assertEquals(5, p.pagedRows());
    assertArrayEquals(new int[] {5, 6, 7, 8, 9, 10, 11, 12, 0, 1, 2, 3, 4}, p.order());
  }

  @Test
  void twoSequencesSharingCachedBlocksAtConsecutivePositionsAreTwoSpans() {
    // Both hold blocks 1 and 2 from the prefix cache; row 2 is the next position after row 1 but not
    // the same sequence: it must not read the first sequence's table.
    Builder b = new Builder();
    rows(b, new int[] {1, 2, 3}, 8, 2, true);
    rows(b, new int[] {1, 2, 5}, 10, 2, true);
    StepPlan p = StepPlan.of(b.build(), BS, true, 2);
    assertEquals(2, p.continuedSpans());
    assertArrayEquals(new int[] {0, 2, 4}, p.continuedStarts());
  }

  @Test
  void rowsWithEqualTablesInDistinctArraysAreOneSpan() {
    Builder b = new Builder();
    b.add(7, 5, 9, new int[] {0, 2}, 6, false);
    b.add(7, 6, 10, new int[] {0, 2}, 7, true);
    StepPlan p = StepPlan.of(b.build(), BS, true, 2);
    assertEquals(1, p.continuedSpans());
    assertEquals(2, p.maxContinuedLength());
  }

  @Test
  void aPromptAfterAPagedRowIsFreshAndLaunchedFirst() {
    Builder b = new Builder();
    rows(b, new int[] {1, 2, 5}, 9, 1, true);
    rows(b, new int[] {9, 3}, 0, 6, true);
    StepPlan p = StepPlan.of(b.build(), BS, true, 2);
    assertEquals(6, p.freshRows());
    assertEquals(1, p.freshSpans());
    assertArrayEquals(new int[] {1, 2, 3, 4, 5, 6, 0}, p.order());
    assertArrayEquals(new int[] {6, 5}, p.batch().sampleRows());
    assertEquals(3, p.tableStride());
  }

  @Test
  void withoutThePrefillKernelEveryRowIsPaged() {
    Builder b = new Builder();
    rows(b, new int[] {9, 3}, 0, 6, true);
    StepPlan p = StepPlan.of(b.build(), BS, false);
    assertEquals(0, p.freshRows());
    assertEquals(6, p.pagedRows());
    assertEquals(2, p.tableStride());
  }

  @Test
  void oneSampledRowPerSequenceIsAPureDecodeStepEvenWithAOneTokenPrompt() {
    Builder b = new Builder();
    rows(b, new int[] {0}, 0, 1, true); // a one-token prompt
    rows(b, new int[] {1, 2, 5}, 9, 1, true);
    rows(b, new int[] {6, 8}, 7, 1, true);
    StepPlan p = StepPlan.of(b.build(), BS, true);
    assertTrue(p.decodeOnly());
    assertTrue(p.sampleIdentity());
    assertEquals(3, p.tableStride());
  }

  @Test
  void twoRowsOfOneSequenceAreNotADecodeStep() {
    Builder b = new Builder();
    rows(b, new int[] {1, 2, 5}, 8, 2, true);
    assertFalse(StepPlan.of(b.build(), BS, true).decodeOnly());
  }

  @Test
  void badBatchesAreRejectedNamingTheRow() {
    ForwardBatch noContext = new ForwardBatch(new int[] {1}, new int[] {0}, new int[] {0}, new int[][] {{0}},
        new int[] {0}, new int[] {0});
    assertTrue(assertThrows(IllegalArgumentException.class, () -> StepPlan.of(noContext, BS, true)).getMessage()
        .contains("contextLens[0] must be >= 1"));
    ForwardBatch shortTable = new ForwardBatch(new int[] {1}, new int[] {8}, new int[] {0}, new int[][] {{0}},
        new int[] {9}, new int[] {0});
    assertTrue(assertThrows(IllegalArgumentException.class, () -> StepPlan.of(shortTable, BS, true)).getMessage()
        .contains("blockTables[0] has 1 blocks but contextLens[0] = 9 needs 3"));
    ForwardBatch badSample = new ForwardBatch(new int[] {1}, new int[] {0}, new int[] {0}, new int[][] {{0}},
        new int[] {1}, new int[] {1});
    assertTrue(assertThrows(IllegalArgumentException.class, () -> StepPlan.of(badSample, BS, true)).getMessage()
        .contains("sampleRows[0] = 1 is not a row"));
  }

  /** Accumulates rows of a ForwardBatch. */
  static final class Builder {
    private final java.util.List<int[]> rows = new java.util.ArrayList<>(); // token, pos, slot, ctx
    private final java.util.List<int[]> tables = new java.util.ArrayList<>();
    private final java.util.List<Integer> sample = new java.util.ArrayList<>();

    void add(int token, int pos, int slot, int[] table, int ctx, boolean sampled) {
      if (sampled) {
        sample.add(rows.size());
      }
      rows.add(new int[] {token, pos, slot, ctx});
      tables.add(table);
    }

    ForwardBatch build() {
      int n = rows.size();
      int[] tok = new int[n];
      int[] pos = new int[n];
      int[] slot = new int[n];
      int[] ctx = new int[n];
      for (int i = 0; i < n; i++) {
        tok[i] = rows.get(i)[0];
        pos[i] = rows.get(i)[1];
        slot[i] = rows.get(i)[2];
        ctx[i] = rows.get(i)[3];
      }
      return new ForwardBatch(tok, pos, slot, tables.toArray(int[][]::new), ctx,
          sample.stream().mapToInt(Integer::intValue).toArray());
    }
  }
}
