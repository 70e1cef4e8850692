package io.decodefleet.agent.engine;

import static io.decodefleet.agent.engine.SchedulerDriver.cachedIds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * How sequences end: after exactly maxTokens outputs, by an abort, and what the runner is told of
 * it.
 * Driven by {@link SchedulerDriver}, without a backend.
 */
class SchedulerCompletionTest {

  @Test
  void sequenceFinishesAfterExactlyMaxTokensAndItsBlocksReturnToThePool() {
    SchedulerDriver d = new SchedulerDriver(4, 64, 1000, 10, 4);
    Sequence seq = d.add(1, 5, 4);
    for (int i = 1; i <= 3; i++) {
      Scheduler.StepOutcome o = d.step();
      assertEquals(List.of(seq), o.produced());
      assertTrue(o.finished().isEmpty(), "finished after only " + i + " outputs");
      assertEquals(Sequence.Status.RUNNING, seq.status());
      assertTrue(d.blocks.numFreeBlocks() < 10);
    }
    Scheduler.StepOutcome last = d.step();
    assertEquals(List.of(seq), last.finished());
    assertEquals(4, seq.numOutputTokens());
    assertEquals(Sequence.Status.FINISHED, seq.status());
    assertEquals(10, d.scheduler.numFreeBlocks());
    assertFalse(d.scheduler.hasWork());
    assertEquals(0, d.scheduler.numRunning());
    d.assertAllOutputsExact();
  }

  @Test
  void finishedIdsShowUpInTheNextOutputOnly() {
    SchedulerDriver d = new SchedulerDriver(4, 64, 1000, 10, 4);
    d.add(1, 2, 1);
    d.add(2, 2, 3);
    SchedulerOutput s1 = d.schedule();
    assertTrue(s1.finishedIds().isEmpty());
    assertEquals(List.of(1L), SchedulerDriver.ids(d.update(s1).finished()).stream().toList());

    SchedulerOutput s2 = d.schedule();
    assertEquals(List.of(1L), s2.finishedIds());
    assertEquals(List.of(2L), cachedIds(s2));
    d.update(s2);

    SchedulerOutput s3 = d.schedule();
    assertTrue(s3.finishedIds().isEmpty(), "finished ids must be reported once");
    d.update(s3);

    SchedulerOutput s4 = d.schedule(); // nothing left to run, but the runner still has to hear of 2
    assertTrue(s4.isEmpty());
    assertEquals(List.of(2L), s4.finishedIds());
    assertTrue(d.schedule().finishedIds().isEmpty());
  }

  @Test
  void updateRejectsASampledTokenThatDoesNotMatchCompletion() {
    Scheduler s = new Scheduler(new SchedulerConfig(4, 8, 1000), new KvBlockManager(10, 4));
    s.add(new Sequence(1, new int[20], 3));
    SchedulerOutput chunk = s.schedule(); // 8 of 20: not complete
    assertThrows(IllegalStateException.class, () -> s.update(chunk, Map.of(1L, 5)));

    Scheduler s2 = new Scheduler(new SchedulerConfig(4, 64, 1000), new KvBlockManager(10, 4));
    s2.add(new Sequence(1, new int[5], 3));
    SchedulerOutput whole = s2.schedule(); // complete: a token is required
    assertThrows(IllegalStateException.class, () -> s2.update(whole, Map.of()));
  }

  @Test
  void aStopTokenEndsTheSequenceOnlyFromMinTokensOn() {
    Scheduler s = new Scheduler(new SchedulerConfig(4, 64, 1000), new KvBlockManager(10, 4));
    Sequence seq = new Sequence(1, new int[] {1, 2}, 10, false,
        new SamplingParams(0f, 1f, 0, 0, new int[] {7, 9}, 3));
    s.add(seq);
    int[] tokens = {9, 7, 5, 9, 4};
    Scheduler.StepOutcome outcome = null;
    for (int i = 0; i < 4; i++) {
      outcome = s.update(s.schedule(), Map.of(1L, tokens[i]));
      if (i < 3) assertTrue(outcome.finished().isEmpty(), "finished at output " + (i + 1) + " of min 3");
    }
    assertEquals(List.of(seq), outcome.finished());
    assertEquals("stop", seq.finishReason());
    assertEquals(4, seq.numOutputTokens());
    assertEquals(10, s.numFreeBlocks());
  }

  @Test
  void aSequenceThatReachesMaxTokensFinishesByLength() {
    Scheduler s = new Scheduler(new SchedulerConfig(4, 64, 1000), new KvBlockManager(10, 4));
    Sequence seq = new Sequence(1, new int[] {1, 2}, 2, false, new SamplingParams(0f, 1f, 0, 0, new int[] {7}, 0));
    s.add(seq);
    s.update(s.schedule(), Map.of(1L, 3));
    assertEquals(List.of(seq), s.update(s.schedule(), Map.of(1L, 4)).finished());
    assertEquals("length", seq.finishReason());
  }

  @Test
  void abortFreesARunningOrWaitingSequenceAndTellsTheRunnerOnce() {
    Scheduler s = new Scheduler(new SchedulerConfig(1, 64, 1000), new KvBlockManager(10, 4));
    s.add(new Sequence(1, new int[] {1, 2, 3, 4, 5}, 10));
    s.add(new Sequence(2, new int[] {1, 2}, 10));
    s.update(s.schedule(), Map.of(1L, 3)); // 1 runs (max 1 sequence), 2 waits
    assertTrue(s.abort(1).isPresent());
    assertTrue(s.abort(2).isPresent());
    assertTrue(s.abort(1).isEmpty(), "a second abort finds nothing");
    assertTrue(s.abort(99).isEmpty());
    assertEquals(10, s.numFreeBlocks());
    assertFalse(s.hasWork());
    SchedulerOutput next = s.schedule();
    assertEquals(List.of(1L), next.finishedIds(), "only the runner's sequence is forgotten");
    assertTrue(s.schedule().finishedIds().isEmpty());
  }

  @Test
  void abortAllReturnsRunningThenWaitingAndFreesEveryBlock() {
    SchedulerDriver d = new SchedulerDriver(2, 64, 1000, 10, 4);
    d.add(1, 5, 10);
    d.add(2, 5, 10);
    d.add(3, 5, 10);
    d.step();
    assertTrue(d.scheduler.numFreeBlocks() < 10);
    List<Long> aborted = d.scheduler.abortAll().stream().map(Sequence::id).toList();
    assertEquals(List.of(1L, 2L, 3L), aborted);
    assertFalse(d.scheduler.hasWork());
    assertEquals(10, d.scheduler.numFreeBlocks());
    SchedulerOutput next = d.scheduler.schedule();
    assertTrue(next.isEmpty());
    assertEquals(Set.of(1L, 2L), Set.copyOf(next.finishedIds()), "the runner must drop the aborted running sequences");
    // The ids are free again.
    d.scheduler.add(new Sequence(1, new int[] {1}, 1));
    assertTrue(d.scheduler.hasWork());
  }
}
