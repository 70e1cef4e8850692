package io.decodefleet.agent.engine;

import static io.decodefleet.agent.engine.SchedulerDriver.box;
import static io.decodefleet.agent.engine.SchedulerDriver.cachedSeq;
import static io.decodefleet.agent.engine.SchedulerDriver.newSeq;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * What the runner is sent: a sequence in full once, then only what changed (new block ids).
 * Driven by {@link SchedulerDriver}, without a backend.
 */
class SchedulerOutputDiffTest {

  @Test
  void sequenceIsSentNewOnceThenAsCachedDiffsWithOnlyTheNewBlockIds() {
    SchedulerDriver d = new SchedulerDriver(4, 64, 1000, 10, 4);
    Sequence seq = d.add(1, 6, 6);
    SchedulerOutput s1 = d.schedule();
    SchedulerOutput.NewSequence n = newSeq(s1, 1);
    assertArrayEquals(seq.promptTokens(), n.tokens());
    assertEquals(2, n.blockIds().length);
    assertEquals(seq.blockTable(), box(n.blockIds()));
    assertEquals(0, n.numComputedTokens());
    assertEquals(6, n.numScheduledTokens());
    assertTrue(s1.cachedSequences().isEmpty());
    d.update(s1);

    // Positions 6 and 7 still fit in two blocks: empty diffs.
    for (int computed = 6; computed <= 7; computed++) {
      SchedulerOutput out = d.schedule();
      assertTrue(out.newSequences().isEmpty(), "a known sequence must not be re-sent in full");
      SchedulerOutput.CachedSequence c = cachedSeq(out, 1);
      assertEquals(0, c.newBlockIds().length);
      assertEquals(computed, c.numComputedTokens());
      assertEquals(1, c.numScheduledTokens());
      d.update(out);
    }
    // Position 8 opens a third block: the diff carries exactly that block.
    SchedulerOutput s4 = d.schedule();
    SchedulerOutput.CachedSequence c = cachedSeq(s4, 1);
    assertEquals(1, c.newBlockIds().length);
    assertEquals(seq.blockTable().get(2), c.newBlockIds()[0]);
    assertEquals(8, c.numComputedTokens());
    d.update(s4);
    d.runToCompletion(10);
    d.assertAllOutputsExact();
  }

  /**
   * Pool of 4 blocks of 4 tokens. A and B (prompt 4, 6 outputs) share it until both hold 2 blocks;
   * at the step where A needs a third block, B (admitted after A) is preempted. C waits behind the
   * sequence cap.
   */
}
