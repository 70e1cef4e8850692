package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.ForwardBatch;
import org.junit.jupiter.api.Test;

/** How a batch's rows split between the prefill and the paged kernels, and when a graph may run it. */
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
  void leadingPromptsFromPositionZeroGoToThePrefillKernelAndTheRestAttendOverTheCache() {
    Builder b = new Builder();
    rows(b, new int[] {9, 3}, 0, 6, true); // a whole prompt
    rows(b, new int[] {4}, 0, 3, false); // a first chunk, not sampled
    rows(b, new int[] {1, 2, 5}, 9, 1, true); // a decode token at position 9
    rows(b, new int[] {6, 8, 0}, 4, 5, true); // a later chunk, positions 4..8
    StepPlan p = StepPlan.of(b.build(), BS, true);
    assertEquals(15, p.rows());
    assertEquals(9, p.freshRows());
    assertArrayEquals(new int[] {0, 6, 9}, p.freshStarts());
    assertEquals(6, p.maxFreshLength());
    assertEquals(6, p.pagedRows());
    assertEquals(3, p.tableStride(), "position 9 needs 3 blocks of 4");
    assertFalse(p.decodeOnly());
    assertFalse(p.sampleIdentity());
  }

  @Test
  void aPromptAfterAPagedRowIsNotFreshBecauseTheFreshRowsMustLead() {
    Builder b = new Builder();
    rows(b, new int[] {1, 2, 5}, 9, 1, true);
    rows(b, new int[] {9, 3}, 0, 6, true);
    StepPlan p = StepPlan.of(b.build(), BS, true);
    assertEquals(0, p.freshRows());
    assertEquals(0, p.freshSpans());
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
