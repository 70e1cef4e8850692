package io.decodefleet.agent.engine;

import static io.decodefleet.agent.engine.SchedulerDriver.cachedIds;
import static io.decodefleet.agent.engine.SchedulerDriver.newIds;
import static io.decodefleet.agent.engine.SchedulerDriver.newSeq;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Preemption: when the KV pool runs out the most recently admitted sequence gives its blocks back
 * and is re-prefilled later, with no output lost or repeated.
 * Driven by {@link SchedulerDriver}, without a backend.
 */
class SchedulerPreemptionTest {

  @Test
  void preemptsMostRecentlyAdmittedWhenPoolRunsOut() {
    SchedulerDriver d = new SchedulerDriver(2, 16, 1000, 4, 4);
    Sequence a = d.add(1, 4, 6);
    Sequence b = d.add(2, 4, 6);
    Sequence c = d.add(3, 4, 2);

    for (int i = 0; i < 5; i++) {
      SchedulerOutput out = d.schedule();
      assertTrue(out.preemptedIds().isEmpty(), "no preemption yet at step " + (i + 1));
      d.update(out);
    }
    assertEquals(5, a.numOutputTokens());
    assertEquals(5, b.numOutputTokens());
    assertEquals(0, d.scheduler.numFreeBlocks());
    int[] bTokensBefore = b.allTokens();

    SchedulerOutput s6 = d.schedule();
    assertEquals(List.of(2L), s6.preemptedIds(), "the most recently admitted sequence is the victim");
    assertEquals(List.of(1L), cachedIds(s6));
    assertTrue(s6.newSequences().isEmpty(), "no admission in a step that preempted (C must not jump the queue)");
    assertEquals(Sequence.Status.WAITING, b.status());
    assertEquals(0, b.numComputedTokens());
    assertTrue(b.blockTable().isEmpty());
    assertEquals(1, b.preemptions());
    assertEquals(2, d.scheduler.numWaiting());
    assertEquals(1, d.scheduler.numRunning());
    assertEquals(List.of(a), d.update(s6).finished());

    SchedulerOutput s7 = d.schedule();
    assertEquals(List.of(1L), s7.finishedIds());
    assertEquals(List.of(2L, 3L), newIds(s7), "the preempted sequence goes back to the head of the queue");
    SchedulerOutput.NewSequence resumed = newSeq(s7, 2);
    assertArrayEquals(bTokensBefore, resumed.tokens(), "resumes with prompt + every output so far");
    assertEquals(9, resumed.tokens().length);
    assertEquals(0, resumed.numComputedTokens());
    assertEquals(9, resumed.numScheduledTokens(), "recompute of the whole sequence");
    assertEquals(3, resumed.blockIds().length);
    d.update(s7);

    d.runToCompletion(20);
    d.assertAllOutputsExact();
    assertEquals(0, a.preemptions());
    assertEquals(1, b.preemptions());
    assertEquals(0, c.preemptions());
  }

  /**
   * Pool of 3 blocks of 2 tokens: A and B each hold one block after their prefill; at the next decode
   * A takes the last free block, and B, the last running sequence, cannot grow and is preempted
   * itself (there is nobody after it to evict).
   */

  @Test
  void lastRunningSequenceIsPreemptedItselfWhenItCannotGrow() {
    SchedulerDriver d = new SchedulerDriver(2, 8, 1000, 3, 2);
    Sequence a = d.add(1, 2, 3);
    Sequence b = d.add(2, 2, 2);
    d.step();

    SchedulerOutput s2 = d.schedule();
    assertEquals(List.of(2L), s2.preemptedIds());
    assertEquals(List.of(1L), cachedIds(s2), "A, admitted first, keeps running");
    assertEquals(1, s2.totalScheduledTokens());
    assertEquals(Sequence.Status.WAITING, b.status());
    d.update(s2);

    SchedulerOutput s3 = d.schedule(); // B still does not fit next to A
    assertTrue(s3.newSequences().isEmpty());
    assertEquals(List.of(a), d.update(s3).finished());

    SchedulerOutput s4 = d.schedule();
    SchedulerOutput.NewSequence resumed = newSeq(s4, 2);
    assertEquals(3, resumed.tokens().length);
    assertEquals(0, resumed.numComputedTokens());
    assertEquals(3, resumed.numScheduledTokens());
    assertEquals(List.of(b), d.update(s4).finished());
    d.assertAllOutputsExact();
  }

  @Test
  void everySequenceGetsExactlyMaxTokensUnderRepeatedPreemption() {
    SchedulerDriver d = new SchedulerDriver(3, 8, 1000, 6, 2);
    d.add(1, 3, 8);
    d.add(2, 3, 8);
    d.add(3, 3, 8);
    d.runToCompletion(500);
    d.assertAllOutputsExact();
    assertTrue(d.all.values().stream().mapToInt(Sequence::preemptions).sum() >= 2);
  }

  @Test
  void tokenBudgetAndInvariantsHoldUnderARandomWorkloadWithPreemption() {
    Random rnd = new Random(42);
    SchedulerDriver d = new SchedulerDriver(6, 24, 1000, 20, 4);
    int nextId = 1;
    int totalPreempted = 0;
    int step = 0;
    while (nextId <= 40 || d.scheduler.hasWork()) {
      if (nextId <= 40 && rnd.nextInt(3) == 0) {
        for (int k = rnd.nextInt(3); k >= 0 && nextId <= 40; k--) {
          d.add(nextId++, 1 + rnd.nextInt(40), 1 + rnd.nextInt(20));
        }
      }
      SchedulerOutput out = d.schedule();
      if (out.isEmpty() && d.scheduler.hasWork()) {
        assertFalse(out.preemptedIds().isEmpty(), "an empty step with work left and no preemption");
      }
      totalPreempted += out.preemptedIds().size();
      d.update(out);
      assertTrue(++step < 5000, "no progress");
    }
    d.assertAllOutputsExact();
    assertTrue(totalPreempted > 0, "the workload was meant to force preemption");
    int preemptionsSeen = d.all.values().stream().mapToInt(Sequence::preemptions).sum();
    assertEquals(totalPreempted, preemptionsSeen);
  }
}
