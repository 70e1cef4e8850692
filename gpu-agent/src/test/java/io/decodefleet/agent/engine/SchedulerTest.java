package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Drives the scheduler without a backend: after each schedule() the test "samples" a fake token for
 * every sequence whose computed + scheduled tokens reach its token count. The fake token is a pure
 * function of (sequence id, its length when sampled), so a lost, duplicated or re-ordered output
 * shows up as a wrong token.
 */
class SchedulerTest {

  /** The token the fake model produces for a sequence of {@code numTokens} tokens. */
  static int fakeToken(long id, int numTokens) {
    return (int) (id * 1000 + numTokens);
  }

  static int[] prompt(long id, int len) {
    return IntStream.range(0, len).map(i -> (int) (id * 7 + i) % 500).toArray();
  }

  /** What each sequence's outputs must be at the end. */
  static int[] expectedOutputs(long id, int promptLen, int maxTokens) {
    return IntStream.range(0, maxTokens).map(i -> fakeToken(id, promptLen + i)).toArray();
  }

  /** The scheduler plus a mirror of what a runner would hold, checking invariants every step. */
  static final class Driver {
    final SchedulerConfig config;
    final KvBlockManager blocks;
    final Scheduler scheduler;
    final Map<Long, Sequence> all = new LinkedHashMap<>();
    /** The runner's copy of each block table, rebuilt only from the scheduler's outputs. */
    final Map<Long, List<Integer>> runnerTables = new HashMap<>();
    /** Running sequences in admission order, as the scheduler's outputs tell it. */
    final List<Long> admissionOrder = new ArrayList<>();
    SchedulerOutput lastOutput;
    Scheduler.StepOutcome lastOutcome;
    int steps;

    Driver(int maxNumSeqs, int budget, int maxModelLen, int numBlocks, int blockSize) {
      config = new SchedulerConfig(maxNumSeqs, budget, maxModelLen);
      blocks = new KvBlockManager(numBlocks, blockSize);
      scheduler = new Scheduler(config, blocks);
    }

    Sequence add(long id, int promptLen, int maxTokens) {
      Sequence seq = new Sequence(id, prompt(id, promptLen), maxTokens);
      scheduler.add(seq);
      all.put(id, seq);
      return seq;
    }

    SchedulerOutput schedule() {
      SchedulerOutput out = scheduler.schedule();
      lastOutput = out;
      checkOutput(out);
      return out;
    }

    Scheduler.StepOutcome update(SchedulerOutput out) {
      Map<Long, Integer> sampled = new HashMap<>();
      for (long[] s : scheduled(out)) {
        Sequence seq = all.get(s[0]);
        if (s[1] + s[2] == seq.numTokens()) sampled.put(seq.id(), fakeToken(seq.id(), seq.numTokens()));
      }
      Scheduler.StepOutcome outcome = scheduler.update(out, sampled);
      lastOutcome = outcome;
      assertEquals(sampled.keySet(), ids(outcome.produced()), "produced must be exactly the completed sequences");
      for (Sequence f : outcome.finished()) {
        admissionOrder.remove(f.id());
        assertEquals(Sequence.Status.FINISHED, f.status());
        assertTrue(f.blockTable().isEmpty(), "a finished sequence must give its blocks back");
      }
      checkBlocks();
      return outcome;
    }

    Scheduler.StepOutcome step() {
      return update(schedule());
    }

    /** (id, numComputed, numScheduled) of every scheduled sequence, new first. */
    static List<long[]> scheduled(SchedulerOutput out) {
      List<long[]> list = new ArrayList<>();
      for (var s : out.newSequences()) list.add(new long[] {s.id(), s.numComputedTokens(), s.numScheduledTokens()});
      for (var s : out.cachedSequences()) list.add(new long[] {s.id(), s.numComputedTokens(), s.numScheduledTokens()});
      return list;
    }

    static Set<Long> ids(List<Sequence> seqs) {
      Set<Long> set = new HashSet<>();
      for (Sequence s : seqs) set.add(s.id());
      return set;
    }

    private void checkOutput(SchedulerOutput out) {
      steps++;
      for (long id : out.finishedIds()) runnerTables.remove(id);
      for (long id : out.preemptedIds()) runnerTables.remove(id);

      // Victims are taken from the most recently admitted end, and a step that preempts admits nobody.
      for (int p = 0; p < out.preemptedIds().size(); p++) {
        assertEquals(admissionOrder.get(admissionOrder.size() - 1), out.preemptedIds().get(p),
            "preempted " + out.preemptedIds() + " but the most recently admitted of " + admissionOrder + " is not first");
        admissionOrder.remove(admissionOrder.size() - 1);
      }
      if (!out.preemptedIds().isEmpty()) {
        assertTrue(out.newSequences().isEmpty(), "admitted " + newIds(out) + " in a step that preempted");
      }
      // Running sequences are scheduled in admission order (decodes and ongoing prefills first).
      List<Long> cached = cachedIds(out);
      assertEquals(admissionOrder.subList(0, cached.size()), cached, "running sequences out of admission order");
      admissionOrder.addAll(newIds(out));

      int total = 0;
      Set<Long> seen = new HashSet<>();
      for (var s : out.newSequences()) {
        Sequence seq = all.get(s.id());
        assertNotNull(seq);
        assertTrue(seen.add(s.id()), "sequence " + s.id() + " scheduled twice in one step");
        assertArrayEquals(seq.allTokens(), s.tokens(), "a new sequence carries every known token");
        assertEquals(seq.numComputedTokens(), s.numComputedTokens());
        runnerTables.put(s.id(), new ArrayList<>(box(s.blockIds())));
        total += s.numScheduledTokens();
      }
      for (var s : out.cachedSequences()) {
        Sequence seq = all.get(s.id());
        assertNotNull(seq);
        assertTrue(seen.add(s.id()), "sequence " + s.id() + " scheduled twice in one step");
        List<Integer> table = runnerTables.get(s.id());
        assertNotNull(table, "cached diff for sequence " + s.id() + " that the runner does not hold");
        table.addAll(box(s.newBlockIds()));
        assertEquals(seq.numComputedTokens(), s.numComputedTokens());
        total += s.numScheduledTokens();
      }
      for (long[] s : scheduled(out)) {
        Sequence seq = all.get(s[0]);
        assertTrue(s[2] >= 1, "a scheduled sequence gets at least one token");
        assertTrue(s[1] + s[2] <= seq.numTokens(), "cannot compute tokens that do not exist yet");
        assertEquals(Sequence.Status.RUNNING, seq.status());
        assertEquals(seq.blockTable(), runnerTables.get(s[0]), "runner's table must equal the scheduler's");
        assertTrue(blocks.blocksFor((int) (s[1] + s[2])) <= seq.blockTable().size(), "KV slots for every scheduled token");
      }
      assertEquals(total, out.totalScheduledTokens());
      assertTrue(out.totalScheduledTokens() <= config.maxBatchedTokens(), "token budget exceeded");
      assertTrue(scheduler.numRunning() <= config.maxNumSeqs(), "more running sequences than max num seqs");
      checkBlocks();
    }

    void checkBlocks() {
      Set<Integer> held = new HashSet<>();
      int count = 0;
      for (Sequence s : all.values()) {
        if (s.status() != Sequence.Status.RUNNING) {
          assertTrue(s.blockTable().isEmpty(), "sequence " + s.id() + " holds blocks while " + s.status());
        }
        for (int b : s.blockTable()) {
          assertTrue(held.add(b), "block " + b + " is owned twice");
          count++;
        }
      }
      assertEquals(blocks.numBlocks(), count + blocks.numFreeBlocks(), "held + free must equal the pool");
      assertEquals(blocks.numFreeBlocks(), scheduler.numFreeBlocks());
    }

    /** Steps until no work is left; returns the number of steps. */
    int runToCompletion(int maxSteps) {
      int n = 0;
      while (scheduler.hasWork()) {
        if (++n > maxSteps) fail("no progress after " + maxSteps + " steps");
        SchedulerOutput out = schedule();
        if (out.isEmpty()) assertFalse(out.preemptedIds().isEmpty(), "an empty step with work left and no preemption");
        update(out);
      }
      return n;
    }

    void assertAllOutputsExact() {
      for (Sequence s : all.values()) {
        assertEquals(Sequence.Status.FINISHED, s.status(), "sequence " + s.id());
        assertArrayEquals(expectedOutputs(s.id(), s.promptLength(), s.maxTokens()), s.outputTokens(),
            "outputs of sequence " + s.id());
      }
      assertEquals(blocks.numBlocks(), blocks.numFreeBlocks());
    }
  }

  static List<Integer> box(int[] a) {
    return IntStream.of(a).boxed().toList();
  }

  static List<Long> newIds(SchedulerOutput out) {
    return out.newSequences().stream().map(SchedulerOutput.NewSequence::id).toList();
  }

  static List<Long> cachedIds(SchedulerOutput out) {
    return out.cachedSequences().stream().map(SchedulerOutput.CachedSequence::id).toList();
  }

  static SchedulerOutput.NewSequence newSeq(SchedulerOutput out, long id) {
    return out.newSequences().stream().filter(s -> s.id() == id).findFirst()
        .orElseThrow(() -> new AssertionError("sequence " + id + " is not new in " + out));
  }

  static SchedulerOutput.CachedSequence cachedSeq(SchedulerOutput out, long id) {
    return out.cachedSequences().stream().filter(s -> s.id() == id).findFirst()
        .orElseThrow(() -> new AssertionError("sequence " + id + " is not cached in " + out));
  }

  @Test
  void admitsInArrivalOrderUpToMaxNumSeqs() {
    Driver d = new Driver(3, 1000, 1000, 100, 16);
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
    assertEquals(Set.of(5L, 3L, 9L), Driver.ids(d.lastOutcome.finished()));
    SchedulerOutput next = d.schedule();
    assertEquals(List.of(1L, 7L), newIds(next));
    d.update(next);
    d.runToCompletion(20);
    d.assertAllOutputsExact();
  }

  @Test
  void chunkedPrefillSchedulesBudgetSizedChunksAndSamplesOnlyOnTheLastChunk() {
    Driver d = new Driver(4, 32, 1000, 100, 16);
    Sequence seq = d.add(1, 100, 2);

    SchedulerOutput s1 = d.schedule();
    assertEquals(0, newSeq(s1, 1).numComputedTokens());
    assertEquals(32, newSeq(s1, 1).numScheduledTokens());
    assertTrue(d.update(s1).produced().isEmpty(), "a non-final chunk must not sample");
    assertEquals(32, seq.numComputedTokens());

    int[] expectedChunks = {32, 32, 4};
    int[] expectedComputed = {32, 64, 96};
    for (int i = 0; i < expectedChunks.length; i++) {
      SchedulerOutput out = d.schedule();
      assertTrue(out.newSequences().isEmpty());
      assertEquals(expectedComputed[i], cachedSeq(out, 1).numComputedTokens());
      assertEquals(expectedChunks[i], cachedSeq(out, 1).numScheduledTokens());
      assertEquals(expectedChunks[i], out.totalScheduledTokens());
      Scheduler.StepOutcome o = d.update(out);
      if (i < expectedChunks.length - 1) {
        assertTrue(o.produced().isEmpty(), "chunk " + (i + 2) + " must not sample");
      } else {
        assertEquals(List.of(seq), o.produced());
      }
    }
    assertEquals(1, seq.numOutputTokens());
    assertEquals(100, seq.numComputedTokens());

    SchedulerOutput decode = d.schedule();
    assertEquals(1, cachedSeq(decode, 1).numScheduledTokens());
    d.update(decode);
    d.assertAllOutputsExact();
  }

  @Test
  void decodesAreScheduledBeforeNewPrefillsAndTakeOneTokenEach() {
    Driver d = new Driver(8, 10, 1000, 100, 16);
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
    Driver d = new Driver(8, 2, 1000, 100, 16);
    for (long id = 1; id <= 3; id++) d.add(id, 1, 4);
    // Budget 2 means at most 2 tokens per step, whatever the running set.
    d.runToCompletion(100);
    d.assertAllOutputsExact();
  }

  @Test
  void tokenBudgetAndInvariantsHoldUnderARandomWorkloadWithPreemption() {
    Random rnd = new Random(42);
    Driver d = new Driver(6, 24, 1000, 20, 4);
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

  @Test
  void sequenceFinishesAfterExactlyMaxTokensAndItsBlocksReturnToThePool() {
    Driver d = new Driver(4, 64, 1000, 10, 4);
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
    Driver d = new Driver(4, 64, 1000, 10, 4);
    d.add(1, 2, 1);
    d.add(2, 2, 3);
    SchedulerOutput s1 = d.schedule();
    assertTrue(s1.finishedIds().isEmpty());
    assertEquals(List.of(1L), Driver.ids(d.update(s1).finished()).stream().toList());

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
  void sequenceIsSentNewOnceThenAsCachedDiffsWithOnlyTheNewBlockIds() {
    Driver d = new Driver(4, 64, 1000, 10, 4);
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
  @Test
  void preemptsMostRecentlyAdmittedWhenPoolRunsOut() {
    Driver d = new Driver(2, 16, 1000, 4, 4);
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
    Driver d = new Driver(2, 8, 1000, 3, 2);
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
    Driver d = new Driver(3, 8, 1000, 6, 2);
    d.add(1, 3, 8);
    d.add(2, 3, 8);
    d.add(3, 3, 8);
    d.runToCompletion(500);
    d.assertAllOutputsExact();
    assertTrue(d.all.values().stream().mapToInt(Sequence::preemptions).sum() >= 2);
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
    Driver d = new Driver(4, 64, 1000, 10, 4);
    d.add(7, 3, 2);
    assertThrows(IllegalArgumentException.class, () -> d.scheduler.add(new Sequence(7, new int[] {1, 2}, 1)));
    assertEquals(1, d.scheduler.numWaiting());
    d.step();
    // Still a duplicate once running.
    assertThrows(IllegalArgumentException.class, () -> d.scheduler.add(new Sequence(7, new int[] {1, 2}, 1)));
    assertEquals(1, d.scheduler.numRunning());
    assertEquals(0, d.scheduler.numWaiting());
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
  void abortAllReturnsRunningThenWaitingAndFreesEveryBlock() {
    Driver d = new Driver(2, 64, 1000, 10, 4);
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
