package io.decodefleet.coordinator.simulation;

import io.decodefleet.agent.engine.KvBlockManager;
import io.decodefleet.agent.engine.Scheduler;
import io.decodefleet.agent.engine.SchedulerConfig;
import io.decodefleet.agent.engine.SchedulerOutput;
import io.decodefleet.agent.engine.Sequence;
import io.decodefleet.agent.engine.SequenceSpec;
import io.decodefleet.agent.engine.SequenceTimes;
import io.decodefleet.coordinator.fleet.FleetAgent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One simulated agent's engine: the real {@link Scheduler} and {@link KvBlockManager} (continuous
 * batching, chunked prefill, preemption by recompute, prefix caching, hand-off parking), with the
 * forward pass replaced by a {@link StepTimeModel} and sampled tokens made up (a hash of the sequence
 * and position: no stop tokens, so every request runs to its max tokens as benchmark requests do).
 * Steps are begun and ended by the simulation on its virtual clock; the agent keeps no time of its own
 * beyond each sequence's queue time.
 */
final class SimulatedAgent {

  /** What one step produced, as the agent reports it to the coordinator. */
  record StepEnd(long[] producedIds, int[] producedTokens, List<Finished> finished, List<Sequence> parked,
      int scheduledTokens, int numSequences, int preempted, int freeBlocks, int running, int waiting,
      KvBlockManager.CacheChanges cacheChanges, long prefixQueried, long prefixHits, long prefixDeferred) {}

  /**
   * A sequence that produced its last token, how long it queued here before its first step and from
   * that step's start to the end of the step of its first token (ns; -1 unknown), as the engine says.
   */
  record Finished(long id, String reason, int outputTokens, int preemptions, long queueNanos, long prefillNanos) {}

  final FleetAgent view;
  final String id;
  private final Scheduler scheduler;
  private final StepTimeModel model;
  private final int vocabSize;
  private final Map<Long, Sequence> sequences = new HashMap<>();
  /** Queue and prefill times of the sequences here, on the virtual clock, as the engine keeps them. */
  private final SequenceTimes times = new SequenceTimes();
  private long prefixQueried;
  private long prefixHits;
  private long prefixDeferred;

  boolean alive = true;
  /** The step in flight, or null when idle. */
  private SchedulerOutput step;
  /** Raised whenever the step in flight changes or ends: an end event of an older step is stale. */
  int generation;
  /** Work left in the step in flight, µs at full speed, as of {@link #workSince}. */
  double workLeftMicros;
  /** The step in flight's whole work, µs at full speed. */
  double stepWorkMicros;
  long workSince;
  /** Share of a processor core (or device) the step runs at now: 1 unless the host's cores are shared. */
  double rate = 1;
  long stepStartNanos;

  /** @param hashSalt the model's block hash salt ({@code BlockHashes.salt}) */
  SimulatedAgent(FleetAgent view, int kvBlocks, int blockSize, SchedulerConfig config, boolean prefixCaching,
      long hashSalt, StepTimeModel model, int vocabSize) {
    this.view = view;
    this.id = view.info.agentId();
    this.scheduler = new Scheduler(config, new KvBlockManager(kvBlocks, blockSize, prefixCaching), hashSalt);
    this.model = model;
    this.vocabSize = vocabSize;
  }

  boolean busy() {
    return step != null;
  }

  boolean hasWork() {
    return scheduler.hasWork();
  }

  /** A sequence arrives (StartSequences); the reason it cannot run here, or empty once it is queued. */
  Optional<String> admit(SequenceSpec spec, long now) {
    Optional<String> reason = scheduler.rejectionReason(spec.promptTokens().length, spec.maxTokens());
    if (reason.isPresent()) return reason;
    Sequence seq = new Sequence(spec.sequenceId(), spec.promptTokens(), spec.maxTokens(), spec.prefillOnly(),
        spec.sampling());
    scheduler.add(seq);
    sequences.put(seq.id(), seq);
    times.submitted(seq.id(), now);
    return Optional.empty();
  }

  /** Schedules the next step and returns its time at full speed, µs. */
  double beginStep(long now) {
    SchedulerOutput out = scheduler.schedule();
    if (out.isEmpty()) {
      throw new IllegalStateException(id + ": the scheduler has work but scheduled nothing");
    }
    int decodeRows = 0;
    long decodeContext = 0;
    int chunks = 0;
    int n = out.newSequences().size() + out.cachedSequences().size();
    int[] starts = new int[n];
    int[] tokens = new int[n];
    for (SchedulerOutput.NewSequence s : out.newSequences()) {
      times.scheduled(s.id(), now);
      if (s.numScheduledTokens() == 1) {
        decodeRows++;
        decodeContext += s.numComputedTokens() + 1;
      } else {
        starts[chunks] = s.numComputedTokens();
        tokens[chunks++] = s.numScheduledTokens();
      }
    }
    for (SchedulerOutput.CachedSequence s : out.cachedSequences()) {
      if (s.numScheduledTokens() == 1) {
        decodeRows++;
        decodeContext += s.numComputedTokens() + 1;
      } else {
        starts[chunks] = s.numComputedTokens();
        tokens[chunks++] = s.numScheduledTokens();
      }
    }
    step = out;
    stepStartNanos = now;
    return model.stepMicros(decodeRows, decodeContext, starts, tokens, chunks);
  }

  /** Ends the step in flight: every sequence it completed samples a token (made up), as the engine's update does. */
  StepEnd endStep(long now) {
    SchedulerOutput out = step;
    step = null;
    generation++;
    Map<Long, Integer> sampled = new HashMap<>();
    for (SchedulerOutput.NewSequence s : out.newSequences()) {
      if (s.numComputedTokens() + s.numScheduledTokens() == s.tokens().length) {
        sampled.put(s.id(), token(s.id(), s.tokens().length));
      }
    }
    for (SchedulerOutput.CachedSequence s : out.cachedSequences()) {
      int total = sequences.get(s.id()).numTokens();
      if (s.numComputedTokens() + s.numScheduledTokens() == total) sampled.put(s.id(), token(s.id(), total));
    }
    Scheduler.StepOutcome outcome = scheduler.update(out, sampled);
    long[] ids = new long[outcome.produced().size()];
    int[] toks = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = outcome.produced().get(i).id();
      toks[i] = sampled.get(ids[i]);
      times.produced(ids[i], now);
    }
    List<Finished> finished = new ArrayList<>(outcome.finished().size());
    for (Sequence seq : outcome.finished()) {
      sequences.remove(seq.id());
      SequenceTimes.Spent spent = times.remove(seq.id());
      finished.add(new Finished(seq.id(), seq.finishReason(), seq.numOutputTokens(), seq.preemptions(),
          spent.queueNanos(), spent.prefillNanos()));
    }
    for (Sequence seq : outcome.parked()) {
      sequences.remove(seq.id());
      times.remove(seq.id());
    }
    long queried = scheduler.prefixQueriedTokens() - prefixQueried;
    long hits = scheduler.prefixHitTokens() - prefixHits;
    long deferred = scheduler.prefixDeferredAdmissions() - prefixDeferred;
    prefixQueried += queried;
    prefixHits += hits;
    prefixDeferred += deferred;
    return new StepEnd(ids, toks, finished, outcome.parked(), out.totalScheduledTokens(),
        out.newSequences().size() + out.cachedSequences().size(), out.preemptedIds().size(), scheduler.numFreeBlocks(),
        scheduler.numRunning(), scheduler.numWaiting(), scheduler.drainCacheChanges(), queried, hits,
        deferred);
  }

  /** The agent is gone: its step in flight never ends and its sequences are forgotten. */
  void lose() {
    alive = false;
    step = null;
    generation++;
  }

  /** A parked sequence's KV was sent (or dropped): its blocks go back to the pool. */
  void releaseParked(long seqId) {
    if (alive && scheduler.isParked(seqId)) scheduler.releaseParked(seqId, false);
  }

  /**
   * A prefilled sequence's KV arrives from another agent: blocks for it are taken now, or, when too
   * few are free, it will be re-prefilled here (false).
   */
  boolean receive(Sequence continued) {
    if (scheduler.receive(continued) == null) return false;
    sequences.put(continued.id(), continued);
    return true;
  }

  /** A sequence being received is given up: its blocks go back to the pool. */
  void dropReceiving(long seqId) {
    scheduler.dropReceiving(seqId);
    sequences.remove(seqId);
  }

  /** The received sequence's KV is in place: it queues for the batch. */
  void activate(long seqId) {
    scheduler.activate(seqId);
  }

  /** A received sequence re-prefilled here for want of blocks: it queues as a fresh one with its tokens. */
  void addRecomputed(Sequence continued) {
    scheduler.add(continued);
    sequences.put(continued.id(), continued);
  }

  /** A sampled token: a hash of the sequence and position, below the vocabulary size. */
  private int token(long seqId, int position) {
    long h = (seqId * 0x9E3779B97F4A7C15L) ^ (position * 0xC2B2AE3D27D4EB4FL);
    h ^= h >>> 29;
    return (int) Math.floorMod(h, (long) vocabSize);
  }
}
