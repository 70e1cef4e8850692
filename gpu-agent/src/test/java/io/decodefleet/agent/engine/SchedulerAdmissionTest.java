package io.decodefleet.agent.engine;

import static io.decodefleet.agent.engine.SchedulerDriver.cachedIds;
import static io.decodefleet.agent.engine.SchedulerDriver.cachedSeq;
import static io.decodefleet.agent.engine.SchedulerDriver.newIds;
import static io.decodefleet.agent.engine.SchedulerDriver.newSeq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Admission and continuous batching: who enters the running set, in what order, and what the
 * token budget lets each running sequence compute per step.
 * Driven by {@link SchedulerDriver}, without a backend.
 */
class SchedulerAdmissionTest {

  @Test
  void admitsInArrivalOrderUpToMaxNumSeqs() {
    SchedulerDriver d = new SchedulerDriver(3, 1000, 1000, 100, 16);
    long[] arrival = {5, 3, 9, 1, 7};
    for (long id : arrival) d.add(id, 4, 3);

    SchedulerOutput first = d.schedule();
    assertEquals(List.of(5L, 3L, 9L), newIds(first), "admission in arrival order, not id order");
    assertEquals(3, d.scheduler.numRunning());
    assertEquals(2, d.scheduler.numWaiting());
    d.update(first);

    // 5, 3, 9 finish after 3 outputs; only then are 1 and 7 admitted.
    for (int i = 0; i < 2; i++) {
      SchedulerOutput out = d.schedule();
      assertTrue(out.newSequences().isEmpty(), "no admission while the cap is reached");
      d.update(out);
    }
    assertEquals(Set.of(5L, 3L, 9L), SchedulerDriver.ids(d.lastOutcome.finished()));
    SchedulerOutput next = d.schedule();
    assertEquals(List.of(1L, 7L), newIds(next));
    d.update(next);
    d.runToCompletion(20);
    d.assertAllOutputsExact();
  }

  @Test
  void decodesAreScheduledBeforeNewPrefillsAndTakeOneTokenEach() {
    SchedulerDriver d = new SchedulerDriver(8, 10, 1000, 100, 16);
    d.add(1, 3, 5);
    d.add(2, 3, 5);
    SchedulerOutput s1 = d.schedule();
    assertEquals(6, s1.totalScheduledTokens());
    d.update(s1);

    d.add(3, 20, 2);
    SchedulerOutput s2 = d.schedule();
    assertEquals(List.of(1L, 2L), cachedIds(s2));
    assertEquals(1, cachedSeq(s2, 1).numScheduledTokens());
    assertEquals(1, cachedSeq(s2, 2).numScheduledTokens());
    assertEquals(8, newSeq(s2, 3).numScheduledTokens(), "the prefill gets what the decodes leave of the budget");
    assertEquals(10, s2.totalScheduledTokens());
    d.update(s2);

    // The new sequence is now running mid-prefill; decodes still come first, the prefill gets the rest.
    SchedulerOutput s3 = d.schedule();
    assertEquals(1, cachedSeq(s3, 1).numScheduledTokens());
    assertEquals(1, cachedSeq(s3, 2).numScheduledTokens());
    assertEquals(8, cachedSeq(s3, 3).numScheduledTokens());
    d.update(s3);
    d.runToCompletion(50);
    d.assertAllOutputsExact();
  }

  @Test
  void budgetSmallerThanRunningSetDefersLaterDecodes() {
    SchedulerDriver d = new SchedulerDriver(8, 2, 1000, 100, 16);
    for (long id = 1; id <= 3; id++) d.add(id, 1, 4);
    // Budget 2 means at most 2 tokens per step, whatever the running set.
    d.runToCompletion(100);
    d.assertAllOutputsExact();
  }

  @Test
  void rejectionReasonForSequencesLargerThanThePoolOrModelLength() {
    Scheduler poolBound = new Scheduler(new SchedulerConfig(4, 64, 1000), new KvBlockManager(4, 4));
    assertEquals(Optional.empty(), poolBound.rejectionReason(10, 6)); // 16 tokens = 4 blocks: fits exactly
    Optional<String> tooBig = poolBound.rejectionReason(10, 7); // 17 tokens = 5 blocks
    assertTrue(tooBig.isPresent());
    assertTrue(tooBig.get().contains("KV blocks"), tooBig.get());

    Scheduler lenBound = new Scheduler(new SchedulerConfig(4, 64, 20), new KvBlockManager(100, 4));
    assertEquals(Optional.empty(), lenBound.rejectionReason(15, 5));
    Optional<String> tooLong = lenBound.rejectionReason(15, 6);
    assertTrue(tooLong.isPresent());
    assertTrue(tooLong.get().contains("max model length"), tooLong.get());

    assertThrows(IllegalArgumentException.class, () -> poolBound.add(new Sequence(1, new int[10], 7)));
    assertThrows(IllegalArgumentException.class, () -> lenBound.add(new Sequence(1, new int[15], 6)));
    assertFalse(poolBound.hasWork());
    assertFalse(lenBound.hasWork());
  }

  @Test
  void addingADuplicateIdThrows() {
    SchedulerDriver d = new SchedulerDriver(4, 64, 1000, 10, 4);
    d.add(7, 3, 2);
    assertThrows(IllegalArgumentException.class, () -> d.scheduler.add(new Sequence(7, new int[] {1, 2}, 1)));
    assertEquals(1, d.scheduler.numWaiting());
    d.step();
    // Still a duplicate once running.
    assertThrows(IllegalArgumentException.class, () -> d.scheduler.add(new Sequence(7, new int[] {1, 2}, 1)));
    assertEquals(1, d.scheduler.numRunning());
    assertEquals(0, d.scheduler.numWaiting());
  }
}
