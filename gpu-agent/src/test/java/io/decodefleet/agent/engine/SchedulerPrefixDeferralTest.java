package io.decodefleet.agent.engine;

import static io.decodefleet.agent.engine.SchedulerDriver.expectedOutputs;
import static io.decodefleet.agent.engine.SchedulerDriver.newIds;
import static io.decodefleet.agent.engine.SchedulerDriver.newSeq;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * In-batch prefix deferral: a waiting sequence whose next uncached block a running sequence is
 * about to prefill waits for it and then starts from the cached blocks, instead of prefilling the
 * same prefix in parallel; it never waits for an owner that has left the batch, and nothing waits
 * forever. Driven by {@link SchedulerDriver} with prefix caching, without a backend.
 */
class SchedulerPrefixDeferralTest {
  private static final int BLOCK = 16;

  private static int[] tokens(int from, int count) {
    return IntStream.range(from, from + count).toArray();
  }

  /** {@code prefix} then {@code suffixLen} tokens of the sequence's own. */
  private static Sequence shared(long id, int[] prefix, int suffixLen, int maxTokens) {
    int[] prompt = java.util.Arrays.copyOf(prefix, prefix.length + suffixLen);
    for (int i = 0; i < suffixLen; i++) prompt[prefix.length + i] = (int) (10_000 + id * 100 + i);
    return new Sequence(id, prompt, maxTokens);
  }

  /** Steps to the end and returns the tokens computed in all. */
  private static long runCounting(SchedulerDriver d, int maxSteps) {
    long scheduled = 0;
    for (int n = 0; d.scheduler.hasWork(); n++) {
      if (n >= maxSteps) fail("no end after " + maxSteps + " steps");
      SchedulerOutput out = d.schedule();
      scheduled += out.totalScheduledTokens();
      d.update(out);
    }
    return scheduled;
  }

  @Test
  void aBurstSharingAPrefixPrefillsItOnceAndTheOthersStartFromTheCachedBlocks() {
    int[] prefix = tokens(0, 2 * BLOCK);
    SchedulerDriver d = new SchedulerDriver(16, 512, 1000, 64, BLOCK, true);
    for (long id = 1; id <= 6; id++) d.add(shared(id, prefix, 8, 4));
    d.add(new Sequence(7, tokens(900, 40), 4)); // another prompt, behind the held-back ones

    SchedulerOutput s1 = d.schedule();
    assertEquals(List.of(1L, 7L), newIds(s1), "one sequence prefills the prefix; one of another prompt is not held");
    assertEquals(40, newSeq(s1, 1).numScheduledTokens());
    d.update(s1);
    SchedulerOutput s2 = d.schedule();
    assertEquals(List.of(2L, 3L, 4L, 5L, 6L), newIds(s2), "the held-back ones keep their order");
    for (long id = 2; id <= 6; id++) {
      assertEquals(2 * BLOCK, newSeq(s2, id).numComputedTokens(), "sequence " + id + " starts from the cached blocks");
      assertEquals(8, newSeq(s2, id).numScheduledTokens(), "sequence " + id + " computes only its own tokens");
    }
    assertEquals(5 * 2 * BLOCK, d.scheduler.prefixHitTokens());
    assertEquals(5, d.scheduler.prefixDeferredAdmissions());
    d.update(s2);
    long withDeferral = s1.totalScheduledTokens() + s2.totalScheduledTokens() + runCounting(d, 20);
    d.assertAllOutputsExact();

    SchedulerDriver plain = new SchedulerDriver(16, 512, 1000, 64, BLOCK, false);
    for (long id = 1; id <= 6; id++) plain.add(shared(id, prefix, 8, 4));
    plain.add(new Sequence(7, tokens(900, 40), 4));
    assertEquals(runCounting(plain, 20) - 5 * 2 * BLOCK, withDeferral, "the prefix was computed once, not six times");
    assertEquals(0, plain.scheduler.prefixDeferredAdmissions());
  }

  @Test
  void aSequenceWaitsForTheRestOfAPrefixWhoseFirstBlocksAreAlreadyCached() {
    // Budget 24: the owner's 40-token prompt takes two steps; after its first, block 0 is cached
    // and block 1 is still in flight.
    SchedulerDriver d = new SchedulerDriver(4, 24, 1000, 16, BLOCK, true);
    int[] prefix = tokens(0, 2 * BLOCK);
    Sequence owner = d.add(shared(1, prefix, 8, 3));
    Sequence follower = d.add(shared(2, prefix, 8, 3));
    assertEquals(List.of(1L), newIds(d.schedule()));
    d.update(d.lastOutput);

    SchedulerOutput s2 = d.schedule();
    assertEquals(List.of(), newIds(s2), "block 0 is cached but block 1 is being prefilled: the follower waits");
    assertEquals(Sequence.Status.WAITING, follower.status());
    assertTrue(follower.blockTable().isEmpty(), "a held-back sequence holds no block");
    assertEquals(16, s2.totalScheduledTokens());
    d.update(s2);

    SchedulerOutput s3 = d.schedule();
    assertEquals(List.of(2L), newIds(s3));
    assertEquals(2 * BLOCK, newSeq(s3, 2).numComputedTokens());
    assertEquals(owner.blockTable().subList(0, 2), follower.blockTable().subList(0, 2), "the blocks are shared");
    assertEquals(2 * BLOCK, d.scheduler.prefixHitTokens());
    assertEquals(1, d.scheduler.prefixDeferredAdmissions());
    d.update(s3);
    d.runToCompletion(20);
    d.assertAllOutputsExact();
  }

  @Test
  void aFollowerIsNotHeldForAnOwnerAbortedInTheMiddleOfItsPrefill() {
    // Budget 24 and a 72-token prompt: the owner is aborted after one chunk (block 0 registered).
    SchedulerDriver d = new SchedulerDriver(4, 24, 1000, 32, BLOCK, true);
    int[] prefix = tokens(0, 4 * BLOCK);
    d.add(shared(1, prefix, 8, 3));
    Sequence follower = d.add(shared(2, prefix, 8, 3));
    d.step();
    assertTrue(d.abort(1));

    SchedulerOutput s2 = d.schedule();
    assertEquals(List.of(2L), newIds(s2), "the aborted owner's prefix is not awaited");
    assertEquals(BLOCK, newSeq(s2, 2).numComputedTokens(), "it starts from the one block the owner registered");
    assertEquals(0, d.scheduler.prefixDeferredAdmissions());
    d.update(s2);
    d.runToCompletion(20);
    assertArrayEquals(expectedOutputs(2, 72, 3), follower.outputTokens());
    assertEquals(d.blocks.numBlocks(), d.blocks.numFreeBlocks());
  }

  @Test
  void anOwnerAbortedRightAfterItsPrefillLeavesItsBlocksToTheSequenceItHeldBack() {
    SchedulerDriver d = new SchedulerDriver(4, 512, 1000, 32, BLOCK, true);
    int[] prefix = tokens(0, 2 * BLOCK);
    d.add(shared(1, prefix, 8, 5));
    Sequence follower = d.add(shared(2, prefix, 8, 3));
    assertEquals(List.of(1L), newIds(d.schedule()));
    d.update(d.lastOutput);
    assertTrue(d.abort(1));

    SchedulerOutput s2 = d.schedule();
    assertEquals(List.of(2L), newIds(s2));
    assertEquals(2 * BLOCK, newSeq(s2, 2).numComputedTokens(), "the aborted owner's blocks stay cached");
    assertEquals(1, d.scheduler.prefixDeferredAdmissions());
    d.update(s2);
    d.runToCompletion(20);
    assertArrayEquals(expectedOutputs(2, 40, 3), follower.outputTokens());
  }

  @Test
  void anOwnerPreemptedAfterItsPrefillStillServesItsFollower() {
    // Pool of 5 blocks of 16: sequence 9 (32 tokens, 16 outputs: 3 blocks at its longest) and the
    // owner (40 tokens: 3 blocks) fill it in step 1; in step 2, 9 needs its third block and the
    // owner, admitted last, is preempted. Its two registered prefix blocks stay cached.
    SchedulerDriver d = new SchedulerDriver(4, 512, 1000, 5, BLOCK, true);
    d.add(new Sequence(9, tokens(900, 32), 16));
    int[] prefix = tokens(0, 2 * BLOCK);
    Sequence owner = d.add(shared(1, prefix, 8, 3));
    Sequence follower = d.add(shared(2, prefix, 8, 3));
    assertEquals(List.of(9L, 1L), newIds(d.schedule()), "the follower waits for the owner's prefill");
    d.update(d.lastOutput);
    SchedulerOutput s2 = d.schedule();
    assertEquals(List.of(1L), s2.preemptedIds());
    d.update(s2);
    assertEquals(Sequence.Status.WAITING, follower.status());

    d.runToCompletion(60);
    d.assertAllOutputsExact();
    assertEquals(1, owner.preemptions());
    assertEquals(0, follower.preemptions());
    // The owner resumes from its own cached blocks, and the follower from the same ones.
    assertEquals(2 * 2 * BLOCK, d.scheduler.prefixHitTokens());
    assertEquals(1, d.scheduler.prefixDeferredAdmissions());
  }

  /**
   * Random arrivals of prompts drawn from a few shared prefixes (block-aligned or not), random
   * aborts, a pool small enough to preempt: every sequence not aborted ends with exactly its
   * outputs, within a bound of steps, and the pool is whole at the end.
   */
  @Test
  void randomArrivalsAbortsAndPreemptionsNeverLeaveASequenceWaitingForever() {
    for (int seed = 0; seed < 60; seed++) {
      Random r = new Random(seed);
      int blockSize = 4 + r.nextInt(3) * 4;
      int budget = 8 + r.nextInt(96);
      int numBlocks = 40 + r.nextInt(60);
      SchedulerDriver d = new SchedulerDriver(1 + r.nextInt(8), budget, 1000, numBlocks, blockSize, true);
      int[][] prefixes = new int[3][];
      for (int p = 0; p < prefixes.length; p++) prefixes[p] = tokens(p * 1000, 1 + r.nextInt(5 * blockSize));
      int numSeqs = 12 + r.nextInt(20);
      Set<Long> aborted = new HashSet<>();
      List<Sequence> pending = new ArrayList<>();
      for (long id = 1; id <= numSeqs; id++) {
        Sequence seq = shared(id, prefixes[r.nextInt(prefixes.length)], 1 + r.nextInt(2 * blockSize), 1 + r.nextInt(6));
        if (d.scheduler.rejectionReason(seq.promptLength(), seq.maxTokens()).isEmpty()) pending.add(seq);
      }
      int steps = 0;
      while (!pending.isEmpty() || d.scheduler.hasWork()) {
        if (++steps > 2000) fail("seed " + seed + ": no end after 2000 steps");
        for (int k = r.nextInt(4) == 0 ? 8 : r.nextInt(3); k > 0 && !pending.isEmpty(); k--) d.add(pending.remove(0));
        if (r.nextInt(20) == 0 && !d.all.isEmpty()) {
          long victim = 1 + r.nextInt(numSeqs);
          if (d.abort(victim)) aborted.add(victim);
        }
        if (d.scheduler.hasWork()) d.step();
      }
      for (Sequence s : d.all.values()) {
        assertEquals(Sequence.Status.FINISHED, s.status(), "seed " + seed + ", sequence " + s.id());
        if (aborted.contains(s.id())) continue;
        assertArrayEquals(expectedOutputs(s.id(), s.promptLength(), s.maxTokens()), s.outputTokens(),
            "seed " + seed + ", outputs of sequence " + s.id());
      }
      assertEquals(d.blocks.numBlocks(), d.blocks.numFreeBlocks(), "seed " + seed);
      assertTrue(d.scheduler.prefixHitTokens() <= d.scheduler.prefixQueriedTokens());
    }
  }
}
