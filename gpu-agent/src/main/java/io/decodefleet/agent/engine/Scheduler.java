package io.decodefleet.agent.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Continuous batching with chunked prefill under a token budget, after vLLM v1. Pure Java, no GPU.
 *
 * <p>Each step: running sequences first, in admission order (a decode needs one token, a sequence in
 * the middle of its prefill gets the next chunk); when the KV pool cannot hold a running sequence's
 * next tokens, the most recently admitted running sequence is preempted by recompute (its blocks
 * freed, it goes back to the head of the queue). Then, if nothing was preempted, waiting sequences are
 * admitted in arrival order while budget, blocks and the sequence cap allow; the last one admitted may
 * get only a chunk of its prompt. With prefix caching, a waiting sequence whose next uncached block
 * a running sequence is about to prefill is passed over until that block is cached ({@link
 * PrefixesInFlight}), keeping its place at the front.
 *
 * <p>Hand-offs (disaggregated prefill/decode): a prefill-only sequence is <em>parked</em> once it
 * has sampled its first token: it leaves the batch but keeps its blocks until {@link
 * #releaseParked}. A sequence whose KV arrives from another agent is <em>received</em>: {@link
 * #receive} gives it blocks for the arriving positions, and {@link #activate} queues it like any
 * waiting sequence once its KV is in place (its next step is a decode).
 *
 * <p>Call order per step: {@link #schedule()}, then the runner executes it, then {@link #update}.
 */
public final class Scheduler {
  private final SchedulerConfig config;
  private final KvBlockManager blocks;
  private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
  private final List<Sequence> running = new ArrayList<>();
  private final Map<Long, Sequence> byId = new HashMap<>();
  // Per sequence, whether the runner holds its state (it is then sent as diffs) and the block-table
  // length last sent are the sequence's own fields (knownToRunner, blocksSent): no map of boxed ids.
  private List<Long> finishedSinceLastStep = new ArrayList<>();
  /** The sequences the last schedule() scheduled, in its order, each with its scheduledTokens. */
  private final List<Sequence> scheduledLastStep = new ArrayList<>();
  /** Prefilled sequences whose blocks are held for a hand-off; not scheduled. */
  private final Map<Long, Sequence> parked = new HashMap<>();
  /** Sequences whose KV is arriving into their blocks; not scheduled until activated. */
  private final Map<Long, Sequence> receiving = new HashMap<>();

  private final PrefixCacheLookup prefixes;
  private long prefixQueriedTokens;
  private long prefixHitTokens;
  private long prefixDeferredAdmissions;

  public Scheduler(SchedulerConfig config, KvBlockManager blocks) {
    this(config, blocks, 0L);
  }

  /** @param hashSalt the block hash chain's start ({@link BlockHashes#salt}) when the pool caches prefixes */
  public Scheduler(SchedulerConfig config, KvBlockManager blocks, long hashSalt) {
    this.config = config;
    this.blocks = blocks;
    this.prefixes = new PrefixCacheLookup(blocks, hashSalt);
  }

  /** Prompt tokens of admitted sequences looked up in the prefix cache, since the engine started. */
  public long prefixQueriedTokens() {
    return prefixQueriedTokens;
  }

  /** Of {@link #prefixQueriedTokens}, those found cached (their prefill skipped). */
  public long prefixHitTokens() {
    return prefixHitTokens;
  }

  /**
   * Sequences admitted after being held back for a prefix another sequence was prefilling
   * ({@link PrefixesInFlight}), since the engine started.
   */
  public long prefixDeferredAdmissions() {
    return prefixDeferredAdmissions;
  }

  /** What the prefix cache registered and evicted since the last call. */
  public KvBlockManager.CacheChanges drainCacheChanges() {
    return blocks.drainChanges();
  }

  /**
   * Why this sequence can never run here, or empty if it can: it must fit the model length and,
   * at its longest, the whole KV pool (otherwise preemption could never make room for it).
   */
  public Optional<String> rejectionReason(int promptLength, int maxTokens) {
    int total = promptLength + maxTokens;
    if (total > config.maxModelLen()) {
      return Optional.of("prompt " + promptLength + " + max tokens " + maxTokens + " = " + total
          + " exceeds the max model length " + config.maxModelLen());
    }
    int needed = blocks.blocksFor(total);
    if (needed > blocks.numBlocks()) {
      return Optional.of("needs " + needed + " KV blocks of " + blocks.blockSize() + " tokens, the pool holds "
          + blocks.numBlocks());
    }
    return Optional.empty();
  }

  /** Queues a sequence; it must have passed {@link #rejectionReason}. */
  public void add(Sequence seq) {
    rejectionReason(seq.promptLength(), seq.maxTokens()).ifPresent(reason -> {
      throw new IllegalArgumentException("sequence " + seq.id() + ": " + reason);
    });
    if (holds(seq.id()) || byId.putIfAbsent(seq.id(), seq) != null) {
      throw new IllegalArgumentException("sequence " + seq.id() + " is already in this engine");
    }
    waiting.addLast(seq);
  }

  private boolean holds(long id) {
    return byId.containsKey(id) || parked.containsKey(id) || receiving.containsKey(id);
  }

  /**
   * Takes in a sequence whose first {@code numComputedTokens} positions of K/V arrive from another
   * agent: allocates blocks for them and returns the block table the KV must be unpacked into, or
   * null (nothing changed) when the pool has too few free blocks. It must have passed {@link
   * #rejectionReason}.
   */
  public int[] receive(Sequence seq) {
    rejectionReason(seq.promptLength(), seq.maxTokens()).ifPresent(reason -> {
      throw new IllegalArgumentException("sequence " + seq.id() + ": " + reason);
    });
    if (holds(seq.id())) throw new IllegalArgumentException("sequence " + seq.id() + " is already in this engine");
    if (!blocks.ensureCapacity(seq.blockTable(), seq.numComputedTokens())) return null;
    receiving.put(seq.id(), seq);
    return toArray(seq.blockTable(), 0);
  }

  /** The received sequence's KV is in place: it waits for a slot in the batch like any other. */
  public void activate(long id) {
    Sequence seq = receiving.remove(id);
    if (seq == null) throw new IllegalStateException("sequence " + id + " is not being received");
    byId.put(id, seq);
    waiting.addLast(seq);
  }

  /** Gives up a sequence being received: its blocks go back to the pool. */
  public void dropReceiving(long id) {
    Sequence seq = receiving.remove(id);
    if (seq == null) throw new IllegalStateException("sequence " + id + " is not being received");
    blocks.release(seq.blockTable());
  }

  /** Forgets a sequence being received without freeing its blocks (the device may still write them). */
  public void abandonReceiving(long id) {
    receiving.remove(id);
  }

  /** The blocks that hold a parked sequence's computed positions, in order: what its hand-off moves. */
  public int[] parkedBlocks(long id) {
    Sequence seq = parked.get(id);
    if (seq == null) throw new IllegalStateException("sequence " + id + " is not parked here");
    int[] table = toArray(seq.blockTable(), 0);
    return java.util.Arrays.copyOf(table, Math.min(table.length, blocks.blocksFor(seq.numComputedTokens())));
  }

  /** Whether {@code id} is parked here, waiting for its hand-off. */
  public boolean isParked(long id) {
    return parked.containsKey(id);
  }

  /** The hand-off of a parked sequence is over: its blocks go back to the pool (unless {@code keepBlocks}). */
  public void releaseParked(long id, boolean keepBlocks) {
    Sequence seq = parked.remove(id);
    if (seq == null) throw new IllegalStateException("sequence " + id + " is not parked here");
    if (!keepBlocks) blocks.release(seq.blockTable());
  }

  public SchedulerOutput schedule() {
    int budget = config.maxBatchedTokens();
    List<SchedulerOutput.NewSequence> newSeqs = new ArrayList<>();
    List<SchedulerOutput.CachedSequence> cachedSeqs = new ArrayList<>();
    List<Long> preempted = new ArrayList<>();
    scheduledLastStep.clear();

    for (int i = 0; i < running.size() && budget > 0; i++) {
      Sequence seq = running.get(i);
      int numNew = Math.min(seq.numTokens() - seq.numComputedTokens(), budget);
      boolean selfPreempted = false;
      while (!blocks.ensureCapacity(seq.blockTable(), seq.numComputedTokens() + numNew)) {
        Sequence victim = running.remove(running.size() - 1);
        preempt(victim);
        preempted.add(victim.id());
        if (victim == seq) {
          selfPreempted = true;
          break;
        }
      }
      if (selfPreempted) break;
      emit(seq, numNew, newSeqs, cachedSeqs);
      budget -= numNew;
    }

    PrefixesInFlight inFlight = blocks.prefixCaching() && !waiting.isEmpty() ? PrefixesInFlight.of(running) : null;
    for (Iterator<Sequence> it = waiting.iterator();
        preempted.isEmpty() && budget > 0 && it.hasNext() && running.size() < config.maxNumSeqs(); ) {
      Sequence seq = it.next();
      int cached = prefixes.adoptCachedPrefix(seq);
      if (cached >= 0 && inFlight != null && inFlight.awaits(seq, cached / blocks.blockSize())) {
        prefixes.dropCachedPrefix(seq); // it keeps its place in the queue; those behind it may go first
        seq.deferForPrefix();
        continue;
      }
      int numNew = Math.min(seq.numTokens() - seq.numComputedTokens(), budget);
      if (!blocks.ensureCapacity(seq.blockTable(), seq.numComputedTokens() + numNew)) {
        if (cached >= 0) prefixes.dropCachedPrefix(seq);
        break;
      }
      if (cached >= 0) {
        prefixQueriedTokens += seq.numTokens();
        prefixHitTokens += cached;
      }
      if (seq.takeDeferredForPrefix()) prefixDeferredAdmissions++;
      it.remove();
      seq.markRunning();
      running.add(seq);
      if (inFlight != null) inFlight.add(seq);
      emit(seq, numNew, newSeqs, cachedSeqs);
      budget -= numNew;
    }

    List<Long> finished = finishedSinceLastStep;
    finishedSinceLastStep = new ArrayList<>();
    return new SchedulerOutput(List.copyOf(newSeqs), List.copyOf(cachedSeqs),
        config.maxBatchedTokens() - budget, List.copyOf(preempted), List.copyOf(finished));
  }

  private void emit(Sequence seq, int numNew, List<SchedulerOutput.NewSequence> newSeqs,
      List<SchedulerOutput.CachedSequence> cachedSeqs) {
    List<Integer> table = seq.blockTable();
    if (!seq.knownToRunner) {
      seq.knownToRunner = true;
      newSeqs.add(new SchedulerOutput.NewSequence(seq.id(), seq.allTokens(), toArray(table, 0),
          seq.numComputedTokens(), numNew, seq.sampling()));
    } else {
      cachedSeqs.add(new SchedulerOutput.CachedSequence(seq.id(), toArray(table, seq.blocksSent),
          seq.numComputedTokens(), numNew));
    }
    seq.blocksSent = table.size();
    seq.scheduledTokens = numNew;
    scheduledLastStep.add(seq);
  }

  private void preempt(Sequence victim) {
    blocks.release(victim.blockTable());
    victim.resetForRecompute();
    forgetSent(victim);
    waiting.addFirst(victim);
  }

  /**
   * Applies a step's results: advances every scheduled sequence, appends the sampled token of each
   * sequence whose known tokens are now all computed, and finishes those that reached max tokens
   * (their blocks go back to the pool).
   *
   * @param sampled the sampled token per sequence id, for exactly the sequences that completed their tokens
   * @return the sequences that produced a token this step, and which of them finished
   */
  public StepOutcome update(SchedulerOutput output, Map<Long, Integer> sampled) {
    List<Sequence> produced = new ArrayList<>();
    List<Sequence> finished = new ArrayList<>();
    List<Sequence> parkedNow = new ArrayList<>();
    for (Sequence seq : scheduledLastStep) {
      if (seq.status() == Sequence.Status.FINISHED) {
        throw new IllegalStateException("sequence " + seq.id() + " finished between its schedule and its update");
      }
      seq.advanceComputed(seq.scheduledTokens);
      prefixes.registerFullBlocks(seq);
      boolean complete = seq.numComputedTokens() == seq.numTokens();
      int token = SampledTokens.tokenOf(sampled, seq.id());
      if (complete != (token >= 0)) {
        throw new IllegalStateException("sequence " + seq.id() + ": " + (token >= 0 ? "sampled token " + token
            : "no sampled token") + " but complete=" + complete);
      }
      if (!complete) continue;
      seq.appendOutput(token);
      produced.add(seq);
      if (seq.isFinishedByStop()) {
        finish(seq, "stop");
        finished.add(seq);
      } else if (seq.isFinishedByLength()) {
        // Never at the model length instead: add() and receive() admit only a prompt + max tokens
        // that fits it, so a sequence always ends at its own max tokens (a cut there would be silent).
        finish(seq, "length");
        finished.add(seq);
      } else if (seq.prefillOnly()) {
        park(seq);
        parkedNow.add(seq);
      }
    }
    scheduledLastStep.clear();
    produced.sort((a, b) -> Long.compare(a.id(), b.id()));
    finished.sort((a, b) -> Long.compare(a.id(), b.id()));
    parkedNow.sort((a, b) -> Long.compare(a.id(), b.id()));
    return new StepOutcome(produced, finished, parkedNow);
  }

  /** Out of the batch, blocks kept: the runner forgets it as it forgets a finished one. */
  private void park(Sequence seq) {
    running.remove(seq);
    byId.remove(seq.id());
    forgetSent(seq);
    finishedSinceLastStep.add(seq.id());
    parked.put(seq.id(), seq);
  }

  /**
   * Cancels a running or waiting sequence: its blocks go back to the pool and it is finished with
   * reason "abort". Empty when this scheduler holds no such sequence (finished, parked for a
   * transfer, or never here).
   */
  public Optional<Sequence> abort(long id) {
    Sequence seq = byId.get(id);
    if (seq == null) return Optional.empty();
    if (waiting.remove(seq)) {
      blocks.release(seq.blockTable()); // empty, except for a received sequence waiting for a slot
      seq.markFinished("abort");
      byId.remove(id);
      if (seq.knownToRunner) finishedSinceLastStep.add(id);
      forgetSent(seq);
      return Optional.of(seq);
    }
    finish(seq, "abort");
    return Optional.of(seq);
  }

  private void finish(Sequence seq, String reason) {
    running.remove(seq);
    blocks.release(seq.blockTable());
    seq.markFinished(reason);
    byId.remove(seq.id());
    forgetSent(seq);
    finishedSinceLastStep.add(seq.id());
  }

  /** The runner no longer holds it (it is sent whole if scheduled again). */
  private static void forgetSent(Sequence seq) {
    seq.knownToRunner = false;
    seq.blocksSent = 0;
  }

  /**
   * A drain that moves KV: parks every running or waiting sequence whose K/V covers all its
   * tokens but the last sampled one (it is decoding, or was received and waits for a slot), so
   * that its blocks can go to another agent, and returns them by id. Sequences in the middle of
   * their prefill, or preempted, are left for {@link #abortAll}.
   */
  public List<Sequence> parkDecoding() {
    List<Sequence> movable = new ArrayList<>();
    for (Sequence seq : List.copyOf(running)) {
      if (decodeReady(seq)) {
        park(seq);
        movable.add(seq);
      }
    }
    for (java.util.Iterator<Sequence> it = waiting.iterator(); it.hasNext(); ) {
      Sequence seq = it.next();
      if (decodeReady(seq)) {
        it.remove();
        byId.remove(seq.id());
        parked.put(seq.id(), seq); // never sent to the runner: nothing for it to forget
        movable.add(seq);
      }
    }
    movable.sort((a, b) -> Long.compare(a.id(), b.id()));
    return movable;
  }

  private boolean decodeReady(Sequence seq) {
    int computed = seq.numComputedTokens();
    return computed > 0 && computed == seq.numTokens() - 1 && seq.blockTable().size() >= blocks.blocksFor(computed);
  }

  /**
   * Removes every sequence that has not finished (drain / shutdown) and returns them, running
   * first. Parked and received sequences stay: their hand-offs are in flight and end on their own.
   */
  public List<Sequence> abortAll() {
    List<Sequence> aborted = new ArrayList<>(running);
    aborted.addAll(waiting);
    for (Sequence seq : running) {
      blocks.release(seq.blockTable());
      forgetSent(seq);
      finishedSinceLastStep.add(seq.id());
    }
    for (Sequence seq : waiting) {
      blocks.release(seq.blockTable()); // empty, except for a received sequence waiting for a slot
      forgetSent(seq);
    }
    running.clear();
    waiting.clear();
    byId.clear();
    return aborted;
  }

  public boolean hasWork() {
    return !running.isEmpty() || !waiting.isEmpty();
  }

  public int numRunning() {
    return running.size();
  }

  public int numWaiting() {
    return waiting.size();
  }

  public int numFreeBlocks() {
    return blocks.numFreeBlocks();
  }

  /**
   * The sequences that produced a token in a step, the subset that finished, and the prefill-only
   * ones that were parked for a hand-off after their first token.
   */
  public record StepOutcome(List<Sequence> produced, List<Sequence> finished, List<Sequence> parked) {
    public StepOutcome(List<Sequence> produced, List<Sequence> finished) {
      this(produced, finished, List.of());
    }
  }

  private static int[] toArray(List<Integer> list, int from) {
    int[] out = new int[list.size() - from];
    for (int i = from; i < list.size(); i++) out[i - from] = list.get(i);
    return out;
  }
}
