package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The engine end to end on the CPU backend with the tiny preset. */
class EngineTest {
  private static final long TIMEOUT_S = 30;
  private static final int VOCAB = ModelConfig.preset("tiny").vocabSize();

  private final List<Engine> engines = new ArrayList<>();

  @AfterEach
  void stopEngines() throws InterruptedException {
    for (Engine e : engines) e.stop();
    for (Engine e : engines) e.awaitTermination(5000);
  }

  /** Everything an engine told, in order, on a queue. */
  static class Collector implements Consumer<EngineEvent> {
    final BlockingQueue<Object> events = new LinkedBlockingQueue<>();

    @Override
    public void accept(EngineEvent event) {
      events.add(event);
    }

    Object next() throws InterruptedException {
      Object e = events.poll(TIMEOUT_S, TimeUnit.SECONDS);
      if (e == null) fail("no engine event within " + TIMEOUT_S + " s");
      if (e instanceof EngineEvent.Crashed c) fail("engine crashed: " + c.reason());
      if (e instanceof EngineEvent.LoadFailed f) fail("load failed: " + f.reason());
      return e;
    }

    <T> T next(Class<T> type) throws InterruptedException {
      Object e = next();
      if (!type.isInstance(e)) fail("expected " + type.getSimpleName() + " but got " + e);
      return type.cast(e);
    }
  }

  /** What a run produced: tokens and finish record per sequence, rejections, every step report. */
  static final class Run {
    final Map<Long, List<Integer>> tokens = new TreeMap<>();
    final Map<Long, SequenceFinished> finished = new TreeMap<>();
    final Map<Long, String> rejected = new LinkedHashMap<>();
    final List<EngineEvent.Stepped> steps = new ArrayList<>();

    int[] tokensOf(long id) {
      return tokens.getOrDefault(id, List.of()).stream().mapToInt(Integer::intValue).toArray();
    }

    Map<Long, int[]> tokenArrays() {
      Map<Long, int[]> m = new TreeMap<>();
      for (long id : tokens.keySet()) m.put(id, tokensOf(id));
      return m;
    }

    int totalPreempted() {
      return steps.stream().mapToInt(EngineEvent.Stepped::preempted).sum();
    }
  }

  static ModelSpec spec(long seed, int kvBlocks, int maxNumSeqs, int maxBatchedTokens, double verify) {
    return new ModelSpec("tiny", seed, 16, kvBlocks, maxNumSeqs, maxBatchedTokens, verify);
  }

  Engine start(String id, ModelSpec spec, Collector c) {
    Engine e = new Engine(id, spec, () -> new CpuBackend(), c);
    engines.add(e);
    e.start();
    return e;
  }

  static SequenceSpec seq(long id, int promptLen, int maxTokens) {
    int[] prompt = IntStream.range(0, promptLen).map(i -> (int) ((id * 131 + i * 17) % VOCAB)).toArray();
    return SequenceSpecs.decodeToEnd(id, prompt, maxTokens);
  }

  /** Collects events until every one of {@code ids} finished or was rejected. */
  static Run collect(Collector c, Set<Long> ids) throws InterruptedException {
    Run run = new Run();
    while (run.finished.size() + run.rejected.size() < ids.size()) {
      Object e = c.next();
      if (e instanceof EngineEvent.Stepped r) {
        run.steps.add(r);
        for (SequenceTokens t : r.tokens()) {
          assertTrue(ids.contains(t.sequenceId()), "tokens for unknown sequence " + t.sequenceId());
          assertFalse(run.finished.containsKey(t.sequenceId()), "tokens after finish for " + t.sequenceId());
          for (int tok : t.tokens()) run.tokens.computeIfAbsent(t.sequenceId(), k -> new ArrayList<>()).add(tok);
        }
        for (SequenceFinished f : r.finished()) {
          assertTrue(run.finished.put(f.sequenceId(), f) == null, "finished twice: " + f.sequenceId());
        }
      } else if (e instanceof EngineEvent.SequenceRefused rej) {
        run.rejected.put(rej.sequenceId(), rej.reason());
      } else {
        fail("unexpected event " + e);
      }
    }
    return run;
  }

  /** Starts an engine, submits the sequences, returns the finished run. */
  Run runAll(String name, ModelSpec spec, List<SequenceSpec> seqs) throws InterruptedException {
    Collector c = new Collector();
    Engine e = start(name, spec, c);
    EngineEvent.Loaded loaded = c.next(EngineEvent.Loaded.class);
    assertEquals(spec.blockSize(), loaded.blockSize());
    e.submit(seqs);
    Set<Long> ids = new java.util.HashSet<>();
    for (SequenceSpec s : seqs) ids.add(s.sequenceId());
    return collect(c, ids);
  }

  @Test
  void aSpecThatLeavesTheBatchLimitsToTheBackendTakesItsDefaultsAndAGivenLimitWins() throws Exception {
    Collector c = new Collector();
    start("defaults", spec(1, 0, 0, 0, 0), c);
    assertEquals(Backend.DEFAULT_MAX_NUM_SEQS, c.next(EngineEvent.Loaded.class).maxNumSeqs());
    Collector given = new Collector();
    start("given", spec(1, 0, 5, 0, 0), given);
    assertEquals(5, given.next(EngineEvent.Loaded.class).maxNumSeqs());
    // With the backend's token budget (512), a 600-token prompt takes two prefill steps: the first
    // chunk samples nothing, so the first reported step is the second chunk, 600 - 512 tokens.
    Run run = runAll("budget", spec(1, 0, 0, 0, 0), List.of(seq(1, 600, 2)));
    assertEquals(2, run.tokens.get(1L).size());
    assertEquals(600 - Backend.DEFAULT_MAX_BATCHED_TOKENS, run.steps.get(0).scheduledTokens());
  }

  static void assertExactLengths(Run run, List<SequenceSpec> seqs) {
    for (SequenceSpec s : seqs) {
      int[] toks = run.tokensOf(s.sequenceId());
      assertEquals(s.maxTokens(), toks.length, "tokens of sequence " + s.sequenceId());
      for (int t : toks) assertTrue(t >= 0 && t < VOCAB, "token out of vocab: " + t);
      SequenceFinished f = run.finished.get(s.sequenceId());
      assertNotNull(f, "sequence " + s.sequenceId() + " never finished");
      assertEquals(s.maxTokens(), f.outputTokens());
      assertEquals("length", f.reason());
    }
  }

  static void assertSameTokens(Map<Long, int[]> expected, Map<Long, int[]> actual) {
    assertEquals(expected.keySet(), actual.keySet());
    for (long id : expected.keySet()) {
      assertArrayEquals(expected.get(id), actual.get(id), "tokens of sequence " + id);
    }
  }

  @Test
  void aSequenceQueuedBehindAFullBatchReportsTheTimeItWaitedBeforeItsFirstStep() throws InterruptedException {
    // One sequence at a time: the second waits in the queue through every step of the first.
    List<SequenceSpec> seqs = List.of(seq(1, 9, 6), seq(2, 9, 6));
    Run run = runAll("queue", spec(3, 64, 1, 64, 0.0), seqs);
    assertExactLengths(run, seqs);
    long firstSteps = run.steps.stream().filter(r -> r.tokens().stream().anyMatch(t -> t.sequenceId() == 1))
        .mapToLong(EngineEvent.Stepped::stepNanos).sum();
    long queued1 = run.finished.get(1L).queueNanos();
    long queued2 = run.finished.get(2L).queueNanos();
    assertTrue(queued1 >= 0 && queued1 < queued2, "queue times " + queued1 + " and " + queued2 + " ns");
    assertTrue(queued2 >= firstSteps, "the second queued " + queued2 + " ns, the first's steps took " + firstSteps);
  }

  @Test
  void sequencesWithOddPromptLengthsFinishWithExactlyMaxTokens() throws InterruptedException {
    List<SequenceSpec> seqs = List.of(seq(1, 1, 5), seq(2, 7, 9), seq(3, 17, 16), seq(4, 33, 3), seq(5, 13, 1));
    Run run = runAll("odd", spec(7, 64, 8, 16, 0.0), seqs);
    assertTrue(run.rejected.isEmpty(), run.rejected.toString());
    assertExactLengths(run, seqs);
    for (EngineEvent.Stepped r : run.steps) {
      assertTrue(r.scheduledTokens() <= 16, "step over the token budget: " + r.scheduledTokens());
    }
    EngineEvent.Stepped last = run.steps.get(run.steps.size() - 1);
    assertEquals(64, last.freeKvBlocks(), "every block back in the pool at the end");
    assertEquals(0, last.running());
    assertEquals(0, last.waiting());
    // Step numbers strictly increase.
    for (int i = 1; i < run.steps.size(); i++) assertTrue(run.steps.get(i).step() > run.steps.get(i - 1).step());
  }

  @Test
  void sameSeedGivesTheSameTokensOnTwoEngines() throws InterruptedException {
    List<SequenceSpec> seqs = List.of(seq(1, 5, 12), seq(2, 11, 12), seq(3, 3, 12));
    Run a = runAll("a", spec(99, 64, 8, 64, 0.0), seqs);
    Run b = runAll("b", spec(99, 64, 8, 64, 0.0), seqs);
    assertExactLengths(a, seqs);
    assertSameTokens(a.tokenArrays(), b.tokenArrays());
    Run other = runAll("c", spec(100, 64, 8, 64, 0.0), seqs);
    boolean anyDiffer = false;
    for (long id : a.tokens.keySet()) anyDiffer |= !a.tokens.get(id).equals(other.tokens.get(id));
    assertTrue(anyDiffer, "a different seed should give different tokens");
  }

  @Test
  void batchingDoesNotChangeTokens() throws InterruptedException {
    List<SequenceSpec> seqs = List.of(seq(1, 9, 10), seq(2, 4, 10), seq(3, 21, 10));
    Run batched = runAll("batched", spec(5, 64, 8, 20, 0.0), seqs);
    Run oneAtATime = runAll("single", spec(5, 64, 1, 512, 0.0), seqs);
    assertExactLengths(batched, seqs);
    assertSameTokens(oneAtATime.tokenArrays(), batched.tokenArrays());
  }

  @Test
  void preemptionByRecomputeGivesTheSameTokensAsALargePool() throws InterruptedException {
    List<SequenceSpec> seqs = List.of(seq(1, 40, 40), seq(2, 40, 40), seq(3, 40, 40), seq(4, 40, 40));
    Run small = runAll("small", spec(11, 12, 4, 64, 1.0), seqs);
    Run large = runAll("large", spec(11, 256, 4, 64, 0.0), seqs);
    assertExactLengths(small, seqs);
    assertExactLengths(large, seqs);
    assertTrue(small.totalPreempted() > 0, "12 blocks of 16 for 4 x 80 tokens must preempt");
    assertTrue(small.finished.values().stream().mapToInt(SequenceFinished::preemptions).sum() > 0);
    assertEquals(0, large.totalPreempted());
    assertSameTokens(large.tokenArrays(), small.tokenArrays());
    // The recompute check also holds across preemptions.
    for (SequenceFinished f : small.finished.values()) {
      assertTrue(f.verify().checked());
      assertTrue(f.verify().passed(), f.verify().detail());
    }
  }

  @Test
  void verifyFractionOneChecksAndPassesEverySequence() throws InterruptedException {
    List<SequenceSpec> seqs = List.of(seq(1, 6, 8), seq(2, 19, 8), seq(3, 2, 8));
    Run run = runAll("verify", spec(3, 64, 8, 16, 1.0), seqs);
    assertExactLengths(run, seqs);
    for (SequenceFinished f : run.finished.values()) {
      VerifyResult v = f.verify();
      assertTrue(v.checked(), "sequence " + f.sequenceId() + " not checked");
      assertTrue(v.passed(), v.detail());
      assertEquals(8, v.stepsChecked());
      assertTrue(v.maxRelError() < 1e-4, "max rel error " + v.maxRelError());
    }
    Run off = runAll("noverify", spec(3, 64, 8, 16, 0.0), seqs);
    for (SequenceFinished f : off.finished.values()) assertFalse(f.verify().checked());
  }

  @Test
  void sequenceThatCanNeverFitIsRejected() throws InterruptedException {
    // 4 blocks of 16: max model length 64.
    List<SequenceSpec> seqs = List.of(seq(1, 60, 10), seq(2, 10, 4), SequenceSpecs.decodeToEnd(3, new int[0], 4), seq(4, 3, 0));
    Collector c = new Collector();
    Engine e = start("reject", spec(1, 4, 8, 64, 0.0), c);
    EngineEvent.Loaded loaded = c.next(EngineEvent.Loaded.class);
    assertEquals(4, loaded.kvBlocks());
    assertEquals(16, loaded.blockSize());
    assertEquals(64, loaded.maxModelLen());
    e.submit(seqs);
    Run run = collect(c, Set.of(1L, 2L, 3L, 4L));
    assertEquals(Set.of(1L, 3L, 4L), run.rejected.keySet());
    assertTrue(run.rejected.get(1L).contains("64"), run.rejected.get(1L));
    assertEquals(Set.of(2L), run.finished.keySet(), "the sequence that fits still runs");
    assertEquals(4, run.tokensOf(2).length);
    assertFalse(run.tokens.containsKey(1L));
  }

  @Test
  void duplicateSequenceIdIsRejected() throws InterruptedException {
    Collector c = new Collector();
    Engine e = start("dup", spec(1, 64, 8, 64, 0.0), c);
    c.next(EngineEvent.Loaded.class);
    e.submit(List.of(seq(1, 5, 6), seq(1, 5, 6)));
    Object first = c.next();
    assertTrue(first instanceof EngineEvent.SequenceRefused r && r.sequenceId() == 1, "expected a rejection of the duplicate, got " + first);
    Run run = collect(c, Set.of(1L));
    assertEquals(6, run.tokensOf(1).length);
  }

  @Test
  void drainHandsBackUnfinishedIdsAndTheEngineServesThemAgain() throws InterruptedException {
    List<SequenceSpec> seqs = List.of(seq(1, 5, 30), seq(2, 9, 30), seq(3, 4, 30));
    CountDownLatch inFirstStep = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Collector c = new Collector() {
      boolean first = true;

      @Override
      public void accept(EngineEvent event) {
        super.accept(event);
        if (event instanceof EngineEvent.Stepped && first) {
          first = false;
          inFirstStep.countDown();
          try {
            release.await(TIMEOUT_S, TimeUnit.SECONDS); // hold the engine thread until the drain is queued
          } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
          }
        }
      }
    };
    Engine e = start("drain", spec(21, 64, 2, 64, 1.0), c);
    c.next(EngineEvent.Loaded.class);
    e.submit(seqs);
    assertTrue(inFirstStep.await(TIMEOUT_S, TimeUnit.SECONDS));
    e.drain();
    release.countDown();

    EngineEvent.Stepped firstStep = c.next(EngineEvent.Stepped.class);
    assertEquals(2, firstStep.tokens().size(), "max num seqs 2: two prefills in the first step");
    EngineEvent.Drained drained = c.next(EngineEvent.Drained.class);
    assertEquals(List.of(1L, 2L, 3L), drained.unfinishedSequenceIds(), "running first, then waiting");

    // The engine is idle and reusable; the drained ids can be served again, from scratch.
    e.submit(seqs);
    Run again = collect(c, Set.of(1L, 2L, 3L));
    assertExactLengths(again, seqs);
    for (SequenceFinished f : again.finished.values()) assertTrue(f.verify().passed(), f.verify().detail());
    Run fresh = runAll("fresh", spec(21, 64, 2, 64, 0.0), seqs);
    assertSameTokens(fresh.tokenArrays(), again.tokenArrays());
  }

  @Test
  void drainBeforeAnyStepHandsBackEverySequence() throws InterruptedException {
    CountDownLatch release = new CountDownLatch(1);
    Collector c = new Collector() {
      @Override
      public void accept(EngineEvent event) {
        super.accept(event);
        if (!(event instanceof EngineEvent.Loaded)) return;
        try {
          release.await(TIMEOUT_S, TimeUnit.SECONDS);
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
        }
      }
    };
    Engine e = start("drain0", spec(1, 64, 8, 64, 0.0), c);
    c.next(EngineEvent.Loaded.class);
    e.submit(List.of(seq(5, 4, 3), seq(6, 4, 3)));
    e.drain();
    release.countDown();
    assertEquals(List.of(5L, 6L), c.next(EngineEvent.Drained.class).unfinishedSequenceIds());
    // Nothing else follows: no step reports for drained sequences.
    assertNull(c.events.poll(300, TimeUnit.MILLISECONDS));
  }

  @Test
  void unknownModelReportsLoadFailed() throws InterruptedException {
    Collector c = new Collector();
    Engine e = new Engine("bad", new ModelSpec("no-such-model", 1, 16, 8, 8, 64, 0), () -> new CpuBackend(1 << 20), c);
    engines.add(e);
    e.start();
    Object ev = c.events.poll(TIMEOUT_S, TimeUnit.SECONDS);
    assertTrue(ev instanceof EngineEvent.LoadFailed f && f.reason().contains("no-such-model"), String.valueOf(ev));
  }

  @Test
  void tokensAreGroupedOnePerSequencePerStep() throws InterruptedException {
    List<SequenceSpec> seqs = List.of(seq(1, 3, 4), seq(2, 3, 4));
    Run run = runAll("grouping", spec(1, 64, 8, 64, 0.0), seqs);
    Map<Long, Integer> perStep = new HashMap<>();
    for (EngineEvent.Stepped r : run.steps) {
      perStep.clear();
      for (SequenceTokens t : r.tokens()) {
        assertEquals(1, t.tokens().length);
        assertTrue(perStep.put(t.sequenceId(), 1) == null, "two token groups for one sequence in a step");
      }
    }
    assertEquals(4, run.steps.size(), "two sequences decoded together: one step per token");
  }
}
