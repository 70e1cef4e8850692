package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * The scheduler plus a mirror of what a runner would hold, checking invariants every step: drives
 * the scheduler without a backend. After each schedule() it "samples" a fake token for every
 * sequence whose computed + scheduled tokens reach its token count. The fake token is a pure
 * function of (sequence id, its length when sampled), so a lost, duplicated or re-ordered output
 * shows up as a wrong token.
 */
final class SchedulerDriver {

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

  SchedulerDriver(int maxNumSeqs, int budget, int maxModelLen, int numBlocks, int blockSize) {
    this(maxNumSeqs, budget, maxModelLen, numBlocks, blockSize, false);
  }

  /** @param prefixCaching whether full blocks are cached by content and shared between sequences */
  SchedulerDriver(int maxNumSeqs, int budget, int maxModelLen, int numBlocks, int blockSize, boolean prefixCaching) {
    config = new SchedulerConfig(maxNumSeqs, budget, maxModelLen);
    blocks = new KvBlockManager(numBlocks, blockSize, prefixCaching);
    scheduler = new Scheduler(config, blocks, 42L);
  }

  Sequence add(long id, int promptLen, int maxTokens) {
    return add(new Sequence(id, prompt(id, promptLen), maxTokens));
  }

  Sequence add(Sequence seq) {
    scheduler.add(seq);
    all.put(seq.id(), seq);
    return seq;
  }

  /** Aborts a sequence as the engine does between steps; whether the scheduler held it. */
  boolean abort(long id) {
    boolean held = scheduler.abort(id).isPresent();
    if (held) admissionOrder.remove(id);
    return held;
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
    for (Sequence s : all.values()) {
      if (s.status() != Sequence.Status.RUNNING) {
        assertTrue(s.blockTable().isEmpty(), "sequence " + s.id() + " holds blocks while " + s.status());
      }
      Set<Integer> own = new HashSet<>();
      for (int b : s.blockTable()) {
        assertTrue(own.add(b), "block " + b + " is twice in sequence " + s.id() + "'s table");
        // Only cached blocks are shared, and only with prefix caching.
        assertTrue(held.add(b) || blocks.prefixCaching(), "block " + b + " is owned twice");
      }
    }
    assertEquals(blocks.numBlocks(), held.size() + blocks.numFreeBlocks(), "held + free must equal the pool");
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
