package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Prefix caching end to end on the CPU backend: a sequence that starts from cached blocks produces
 * the same greedy tokens as one prefilled in full, skips the cached part of its prefill, and the
 * engine reports what it registered and found.
 */
class PrefixCachingEngineTest {
  private static final int VOCAB = ModelConfig.preset("tiny").vocabSize();
  private final List<Engine> engines = new ArrayList<>();

  @AfterEach
  void stop() throws InterruptedException {
    for (Engine e : engines) e.stop();
    for (Engine e : engines) e.awaitTermination(5000);
  }

  private static int[] prompt(int[] prefix, int suffixLen, long salt) {
    int[] p = java.util.Arrays.copyOf(prefix, prefix.length + suffixLen);
    for (int i = 0; i < suffixLen; i++) p[prefix.length + i] = (int) ((salt * 977 + i * 31) % VOCAB);
    return p;
  }

  /** Runs the sequences one after another (each after the previous finished); tokens and events. */
  private Map<Long, int[]> runInTurn(ModelSpec.PrefixCaching caching, List<SequenceSpec> seqs,
      List<EngineEvent.PrefixCacheChanged> cacheEvents, List<EngineEvent.Stepped> steps) throws Exception {
    EngineTest.Collector c = new EngineTest.Collector();
    Engine e = new Engine("prefix-" + caching, new ModelSpec("tiny", 3, 16, 64, 8, 512, 0.0, caching),
        CpuBackend::new, c);
    engines.add(e);
    e.start();
    c.next(EngineEvent.Loaded.class);
    Map<Long, int[]> out = new TreeMap<>();
    for (SequenceSpec s : seqs) {
      e.submit(List.of(s));
      List<Integer> tokens = new ArrayList<>();
      boolean done = false;
      while (!done) {
        Object ev = c.next();
        if (ev instanceof EngineEvent.PrefixCacheChanged p) {
          cacheEvents.add(p);
        } else if (ev instanceof EngineEvent.Stepped st) {
          steps.add(st);
          st.tokens().forEach(t -> IntStream.of(t.tokens()).forEach(tokens::add));
          done = !st.finished().isEmpty();
        }
      }
      out.put(s.sequenceId(), tokens.stream().mapToInt(Integer::intValue).toArray());
    }
    return out;
  }

  @Test
  void aSequenceServedFromCachedBlocksDecodesTheSameTokensAndSkipsTheCachedPrefill() throws Exception {
    int[] shared = IntStream.range(0, 40).map(i -> (i * 53 + 7) % VOCAB).toArray(); // 2 full blocks + 8
    List<SequenceSpec> seqs = List.of(new SequenceSpec(1, prompt(shared, 5, 1), 12, false),
        new SequenceSpec(2, prompt(shared, 9, 2), 12, false), new SequenceSpec(3, prompt(shared, 5, 1), 6, false));
    List<EngineEvent.PrefixCacheChanged> cached = new ArrayList<>();
    List<EngineEvent.Stepped> cachedSteps = new ArrayList<>();
    Map<Long, int[]> withCache = runInTurn(ModelSpec.PrefixCaching.ON, seqs, cached, cachedSteps);
    List<EngineEvent.PrefixCacheChanged> none = new ArrayList<>();
    List<EngineEvent.Stepped> fullSteps = new ArrayList<>();
    Map<Long, int[]> without = runInTurn(ModelSpec.PrefixCaching.OFF, seqs, none, fullSteps);

    for (long id : without.keySet()) assertArrayEquals(without.get(id), withCache.get(id), "tokens of " + id);
    assertTrue(none.isEmpty(), "no cache events without prefix caching");
    long queried = cached.stream().mapToLong(EngineEvent.PrefixCacheChanged::queriedTokens).sum();
    long hits = cached.stream().mapToLong(EngineEvent.PrefixCacheChanged::hitTokens).sum();
    assertEquals(45 + 49 + 45, queried);
    // Sequence 2 finds the 2 shared blocks; sequence 3 (sequence 1's prompt) finds those and, as 1's
    // third block also held 8 of its own tokens plus generated ones, only the 2 shared ones again.
    assertEquals(32 + 32, hits);
    long scheduledWith = cachedSteps.stream().mapToLong(EngineEvent.Stepped::scheduledTokens).sum();
    long scheduledWithout = fullSteps.stream().mapToLong(EngineEvent.Stepped::scheduledTokens).sum();
    assertEquals(scheduledWithout - hits, scheduledWith, "the cached tokens were not computed again");
    assertTrue(cached.stream().mapToLong(p -> p.added().size()).sum() >= 2, "blocks were registered");
  }

  /** Submits every sequence at once and runs them to the end; tokens, with cache events and steps. */
  private Map<Long, int[]> runAtOnce(ModelSpec.PrefixCaching caching, List<SequenceSpec> seqs,
      List<EngineEvent.PrefixCacheChanged> cacheEvents, List<EngineEvent.Stepped> steps) throws Exception {
    EngineTest.Collector c = new EngineTest.Collector();
    Engine e = new Engine("burst-" + caching, new ModelSpec("tiny", 3, 16, 64, 8, 512, 1.0, caching),
        CpuBackend::new, c);
    engines.add(e);
    e.start();
    c.next(EngineEvent.Loaded.class);
    e.submit(seqs);
    Map<Long, List<Integer>> tokens = new TreeMap<>();
    int finished = 0;
    while (finished < seqs.size()) {
      Object ev = c.next();
      if (ev instanceof EngineEvent.PrefixCacheChanged p) {
        cacheEvents.add(p);
      } else if (ev instanceof EngineEvent.Stepped st) {
        steps.add(st);
        st.tokens().forEach(t -> IntStream.of(t.tokens()).forEach(tokens.computeIfAbsent(t.sequenceId(),
            k -> new ArrayList<>())::add));
        for (SequenceFinished f : st.finished()) {
          assertTrue(f.verify().checked() && f.verify().passed(), "recompute check of " + f.sequenceId() + ": "
              + f.verify());
          finished++;
        }
      }
    }
    Map<Long, int[]> out = new TreeMap<>();
    tokens.forEach((id, t) -> out.put(id, t.stream().mapToInt(Integer::intValue).toArray()));
    return out;
  }

  @Test
  void aBurstSharingAPrefixPrefillsItOnceAndEveryOtherSequenceFindsItCached() throws Exception {
    int[] shared = IntStream.range(0, 32).map(i -> (i * 37 + 11) % VOCAB).toArray(); // 2 full blocks
    List<SequenceSpec> seqs = new ArrayList<>();
    for (long id = 1; id <= 6; id++) seqs.add(new SequenceSpec(id, prompt(shared, 4 + (int) id, id), 8, false));
    List<EngineEvent.PrefixCacheChanged> cached = new ArrayList<>();
    List<EngineEvent.Stepped> cachedSteps = new ArrayList<>();
    Map<Long, int[]> withCache = runAtOnce(ModelSpec.PrefixCaching.ON, seqs, cached, cachedSteps);
    List<EngineEvent.Stepped> fullSteps = new ArrayList<>();
    Map<Long, int[]> without = runAtOnce(ModelSpec.PrefixCaching.OFF, seqs, new ArrayList<>(), fullSteps);

    assertEquals(6, without.size());
    for (long id : without.keySet()) assertArrayEquals(without.get(id), withCache.get(id), "tokens of " + id);
    long hits = cached.stream().mapToLong(EngineEvent.PrefixCacheChanged::hitTokens).sum();
    assertEquals(5 * 32, hits, "every sequence but the first finds both prefix blocks cached");
    assertEquals(5, cached.stream().mapToLong(EngineEvent.PrefixCacheChanged::deferredAdmissions).sum());
    long scheduledWith = cachedSteps.stream().mapToLong(EngineEvent.Stepped::scheduledTokens).sum();
    long scheduledWithout = fullSteps.stream().mapToLong(EngineEvent.Stepped::scheduledTokens).sum();
    assertEquals(scheduledWithout - 5 * 32, scheduledWith, "the prefix was computed once");
  }
}
