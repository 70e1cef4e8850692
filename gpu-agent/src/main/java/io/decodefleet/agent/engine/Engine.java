package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.kv.HeldKv;
import io.decodefleet.agent.engine.kv.IncomingKvTransfer;
import io.decodefleet.agent.engine.kv.KvGroupSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One agent's decode engine on its own thread: load the model, then loop schedule → execute →
 * update, telling its owner what happened as {@link EngineEvent}s. Commands arrive through a
 * queue; the thread blocks on it only when there is no work. The engine knows neither the wire
 * protocol nor the actor that owns it.
 */
public final class Engine {

  private sealed interface Command permits Submit, Abort, AbortAll, Drain, Stop, NewKvGroupId, JoinKvGroup,
      AbortKvGroup, SendKv, ReceiveKv, ProfileNext {}

  /** @param nanos when it was handed to the engine (its queue time counts from here, not from its dequeue) */
  private record Submit(List<SequenceSpec> sequences, long nanos) implements Command {}

  private record Abort(List<Long> sequenceIds) implements Command {}

  private enum AbortAll implements Command { INSTANCE }

  private enum Drain implements Command { INSTANCE }

  private enum Stop implements Command { INSTANCE }

  private enum NewKvGroupId implements Command { INSTANCE }

  private record JoinKvGroup(KvGroupSpec spec) implements Command {}

  private record AbortKvGroup(String reason) implements Command {}

  private record SendKv(long sequenceId, int peer) implements Command {}

  private record ReceiveKv(IncomingKvTransfer transfer) implements Command {}

  private record ProfileNext(int steps) implements Command {}

  /** This process, as EngineEvent.Loaded names it: random per JVM, so agents of one process recognise each other. */
  private static final String PROCESS = ProcessHandle.current().pid() + "/" + java.util.UUID.randomUUID();

  /** How long the loop waits for a command while only transfers are in flight (their poll interval). */
  private static final long TRANSFER_POLL_MICROS = 100;

  private final String agentId;
  private final ModelSpec spec;
  private final Supplier<Backend> backendFactory;
  /** Called on the engine thread; hands each event off (e.g. tells an actor) and returns at once. */
  private final Consumer<EngineEvent> events;
  private final LinkedBlockingQueue<Command> inbox = new LinkedBlockingQueue<>();
  private final Thread thread;
  /** Set once loaded; read by {@link #abortKvGroup} from other threads. */
  private volatile KvTransferEndpoint kvTransfers;

  /** @param events told everything the engine does, on the engine thread (see {@link EngineEvent}) */
  public Engine(String agentId, ModelSpec spec, Supplier<Backend> backendFactory, Consumer<EngineEvent> events) {
    this.agentId = agentId;
    this.spec = spec;
    this.backendFactory = backendFactory;
    this.events = events;
    this.thread = new Thread(this::run, "engine-" + agentId);
    this.thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  public void submit(List<SequenceSpec> sequences) {
    inbox.add(new Submit(List.copyOf(sequences), System.nanoTime()));
  }

  /**
   * Profile the next {@code steps} decode-only steps, from now until the busy spell they fall in
   * ends (see {@link ModelRunner#profileNextSteps}). Commands keep their order, so sequences
   * submitted after this are covered.
   */
  public void profileNextSteps(int steps) {
    inbox.add(new ProfileNext(steps));
  }

  /**
   * Cancel these sequences: each one still running or waiting here stops and frees its KV blocks,
   * without a report; others are ignored.
   */
  public void abort(List<Long> sequenceIds) {
    inbox.add(new Abort(List.copyOf(sequenceIds)));
  }

  /**
   * Cancel every sequence running or waiting here (their owner is gone): each stops and frees its KV
   * blocks, without a report of its own; EngineEvent.AllAborted says how many and what is free after.
   * Sequences parked for a KV hand-off are left to their transfer.
   */
  public void abortAll() {
    inbox.add(AbortAll.INSTANCE);
  }

  /**
   * Finish nothing more: give up every unfinished sequence (EngineEvent.Drained). In a usable
   * KV group, the sequences whose KV is complete are kept parked for a transfer instead.
   */
  public void drain() {
    inbox.add(Drain.INSTANCE);
  }

  public void stop() {
    inbox.add(Stop.INSTANCE);
  }

  /** Make a unique id for a KV group: answered by KvGroupIdCreated or KvGroupFailed. */
  public void createKvGroupId() {
    inbox.add(NewKvGroupId.INSTANCE);
  }

  /** Join a KV group (on the engine thread, which blocks until every rank joined). */
  public void joinKvGroup(KvGroupSpec spec) {
    inbox.add(new JoinKvGroup(spec));
  }

  /**
   * Abort the KV group: at once from the calling thread (an engine blocked on a dead
   * peer is freed by it), then on the engine thread.
   */
  public void abortKvGroup(String reason) {
    KvTransferEndpoint k = kvTransfers;
    if (k != null) k.abort(reason);
    inbox.add(new AbortKvGroup(reason));
  }

  /** Send a parked sequence's KV to group rank {@code peer} (a negative peer releases it unsent). */
  public void sendKv(long sequenceId, int peer) {
    inbox.add(new SendKv(sequenceId, peer));
  }

  /** Receive a sequence's KV and decode it from there. */
  public void receiveKv(IncomingKvTransfer transfer) {
    inbox.add(new ReceiveKv(transfer));
  }

  public void awaitTermination(long millis) throws InterruptedException {
    thread.join(millis);
  }

  private void run() {
    Backend backend = null;
    State state;
    try {
      long t0 = System.nanoTime();
      backend = backendFactory.get();
      ModelLoad load = ModelLoad.of(spec);
      ModelConfig config = load.config();
      backend.loadModel(load);
      int blocks = spec.kvBlocks() > 0 ? spec.kvBlocks() : backend.kvBlockCapacity(spec.blockSize());
      if (blocks < 1) throw new IllegalStateException("no memory left for even one KV block");
      backend.allocateKvCache(blocks, spec.blockSize());
      int maxModelLen = Math.min(config.maxPositionEmbeddings(), blocks * spec.blockSize());
      int maxNumSeqs = spec.maxNumSeqs() > 0 ? spec.maxNumSeqs() : backend.defaultMaxNumSeqs();
      int maxBatchedTokens = spec.maxBatchedTokens() > 0 ? spec.maxBatchedTokens() : backend.defaultMaxBatchedTokens();
      boolean prefixCaching = spec.prefixCaching() == ModelSpec.PrefixCaching.AUTO ? backend.defaultPrefixCaching()
          : spec.prefixCaching() == ModelSpec.PrefixCaching.ON;
      state = new State(config, backend, blocks, maxModelLen, new SchedulerConfig(maxNumSeqs, maxBatchedTokens,
          maxModelLen), prefixCaching);
      events.accept(new EngineEvent.Loaded(blocks, spec.blockSize(), maxNumSeqs, maxModelLen,
          (System.nanoTime() - t0) / 1_000_000, backend.kvTransferUnsupported().orElse(""), PROCESS, backend.loadReport()));
    } catch (RuntimeException | OutOfMemoryError e) {
      if (backend != null) {
        closeQuietly(backend); // a GPU backend holds device memory and a context until closed
      }
      events.accept(new EngineEvent.LoadFailed(describe(e)));
      return;
    }
    kvTransfers = state.kvTransfers;
    try (Backend ignored = backend) {
      try {
        loop(state);
      } finally {
        state.kvTransfers.close(); // before the backend: the group's buffers live in its memory
      }
    } catch (RuntimeException | OutOfMemoryError e) {
      state.kvTransfers.reportCrash(describe(e));
      events.accept(new EngineEvent.Crashed(describe(e), state.unfinishedIds()));
    }
  }

  private static void closeQuietly(Backend backend) {
    try {
      backend.close();
    } catch (RuntimeException e) {
      // The load failure is the error to report.
    }
  }

  private static String describe(Throwable e) {
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  private final class State {
    final Backend backend;
    final Scheduler scheduler;
    final ModelRunner runner;
    final RecomputeVerifier verifier;
    final java.util.Set<Long> inFlight = new java.util.LinkedHashSet<>();
    /** Submitted sequences' queue and prefill times (System.nanoTime), until they finish or leave. */
    final SequenceTimes times = new SequenceTimes();
    final KvTransferEndpoint kvTransfers;
    long step;

    long prefixQueried;
    long prefixHits;
    long prefixDeferred;
    AllReduceTraffic allReducesReported = AllReduceTraffic.NONE;

    State(ModelConfig config, Backend backend, int blocks, int maxModelLen, SchedulerConfig limits,
        boolean prefixCaching) {
      this.backend = backend;
      this.scheduler = new Scheduler(limits, new KvBlockManager(blocks, spec.blockSize(), prefixCaching),
          BlockHashes.salt(spec));
      this.runner = new ModelRunner(backend, spec.blockSize(), config.vocabSize());
      runner.profileDecodeSteps(spec.profileSteps());
      this.verifier = new RecomputeVerifier(spec.verifyFraction(), config.vocabSize());
      this.kvTransfers = new KvTransferEndpoint(agentId, events, scheduler, inFlight, spec.blockSize());
    }

    /** The backend's all-reduces since the last step reported: steps that produced no token report none. */
    AllReduceTraffic allReducesSinceReported() {
      AllReduceTraffic total = backend.allReduceTraffic();
      AllReduceTraffic since = total.minus(allReducesReported);
      allReducesReported = total;
      return since;
    }

    List<Long> unfinishedIds() {
      return List.copyOf(inFlight);
    }
  }

  private void loop(State s) {
    while (true) {
      if (!s.scheduler.hasWork()) s.runner.idle(); // the next work is a new busy spell
      Command cmd;
      try {
        cmd = s.scheduler.hasWork() ? inbox.poll()
            : s.kvTransfers.busy() ? inbox.poll(TRANSFER_POLL_MICROS, TimeUnit.MICROSECONDS)
            : inbox.poll(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (cmd instanceof Stop) return;
      if (cmd instanceof Drain) {
        List<HeldKv> held = new ArrayList<>();
        if (s.kvTransfers.canSend()) {
          for (Sequence seq : s.scheduler.parkDecoding()) {
            held.add(new HeldKv(seq.id(), seq.numComputedTokens()));
            s.verifier.forget(seq.id()); // its decode goes on elsewhere
          }
        }
        List<Long> unfinished = new ArrayList<>();
        for (Sequence seq : s.scheduler.abortAll()) {
          unfinished.add(seq.id());
          s.verifier.forget(seq.id());
        }
        unfinished.addAll(s.kvTransfers.orphanReceives());
        s.inFlight.clear();
        s.times.clear();
        events.accept(new EngineEvent.Drained(unfinished, held));
        continue;
      }
      if (cmd instanceof Submit submit) admit(s, submit.sequences(), submit.nanos());
      if (cmd instanceof Abort abort) abort(s, abort.sequenceIds());
      if (cmd instanceof ProfileNext p) s.runner.profileNextSteps(p.steps());
      if (cmd instanceof AbortAll) {
        List<Long> ids = List.copyOf(s.inFlight);
        abort(s, ids);
        events.accept(new EngineEvent.AllAborted(ids.size(), s.scheduler.numFreeBlocks()));
      }
      if (cmd != null && !(cmd instanceof Submit) && !(cmd instanceof Abort) && !(cmd instanceof AbortAll)
          && !(cmd instanceof ProfileNext)) {
        kvTransfer(s, cmd);
      }
      s.kvTransfers.poll();
      if (cmd == null && s.scheduler.hasWork()) step(s);
    }
  }

  private void kvTransfer(State s, Command cmd) {
    if (cmd instanceof NewKvGroupId) {
      s.kvTransfers.newGroupId(s.backend);
    } else if (cmd instanceof JoinKvGroup join) {
      s.kvTransfers.join(s.backend, join.spec());
    } else if (cmd instanceof AbortKvGroup abort) {
      s.kvTransfers.abort(abort.reason());
    } else if (cmd instanceof SendKv send) {
      s.kvTransfers.send(send.sequenceId(), send.peer());
    } else if (cmd instanceof ReceiveKv receive) {
      s.kvTransfers.receive(receive.transfer());
    }
  }

  private void admit(State s, List<SequenceSpec> specs, long submittedNanos) {
    for (SequenceSpec spec : specs) {
      Optional<String> reason = s.scheduler.rejectionReason(spec.promptTokens().length, spec.maxTokens());
      if (spec.promptTokens().length == 0) reason = Optional.of("empty prompt");
      if (reason.isPresent()) {
        events.accept(new EngineEvent.SequenceRefused(spec.sequenceId(), reason.get()));
        continue;
      }
      try {
        s.scheduler.add(new Sequence(spec.sequenceId(), spec.promptTokens(), spec.maxTokens(), spec.prefillOnly(),
            spec.sampling()));
        s.inFlight.add(spec.sequenceId());
        s.times.submitted(spec.sequenceId(), submittedNanos);
      } catch (IllegalArgumentException e) {
        events.accept(new EngineEvent.SequenceRefused(spec.sequenceId(), e.getMessage()));
      }
    }
  }

  /**
   * Frees what aborted sequences hold. Nothing is reported: the owner that aborted them has
   * already forgotten them (a token of theirs in a later report is ignored like any unknown id).
   */
  private void abort(State s, List<Long> ids) {
    for (long id : ids) {
      s.times.remove(id);
      s.scheduler.abort(id).ifPresent(seq -> {
        s.inFlight.remove(seq.id());
        s.verifier.forget(seq.id());
      });
    }
  }

  private void step(State s) {
    long t0 = System.nanoTime();
    SchedulerOutput out = s.scheduler.schedule();
    for (SchedulerOutput.NewSequence started : out.newSequences()) {
      s.times.scheduled(started.id(), t0);
    }
    ModelRunner.StepResult result = s.runner.execute(out, s.verifier::selects);
    for (var e : result.logits().entrySet()) s.verifier.record(e.getKey(), e.getValue());
    Scheduler.StepOutcome outcome = s.scheduler.update(out, result.sampled());
    long stepEnd = System.nanoTime();
    List<SequenceTokens> tokens = new ArrayList<>(outcome.produced().size());
    for (Sequence seq : outcome.produced()) {
      s.times.produced(seq.id(), stepEnd);
      tokens.add(new SequenceTokens(seq.id(), new int[] {SampledTokens.tokenOf(result.sampled(), seq.id())}));
    }
    for (Sequence seq : outcome.parked()) {
      s.inFlight.remove(seq.id()); // its decode goes on elsewhere
      s.times.remove(seq.id());
      s.verifier.forget(seq.id());
    }
    List<SequenceFinished> finished = new ArrayList<>(outcome.finished().size());
    for (Sequence seq : outcome.finished()) {
      s.inFlight.remove(seq.id());
      SequenceTimes.Spent spent = s.times.remove(seq.id());
      finished.add(new SequenceFinished(seq.id(), seq.finishReason(), seq.numOutputTokens(), seq.preemptions(),
          s.verifier.verify(seq, s.backend), spent.queueNanos(), spent.prefillNanos()));
    }
    long stepNanos = System.nanoTime() - t0;
    s.step++;
    if (!tokens.isEmpty() || !out.preemptedIds().isEmpty()) {
      // The backend's own account of the step (a graph replay or eager launches, host and device
      // time); a backend without one ran the whole step on the host.
      StepTiming timing = s.backend.lastStepTiming();
      events.accept(new EngineEvent.Stepped(s.step, tokens, finished, s.scheduler.numFreeBlocks(),
          s.scheduler.numRunning(), s.scheduler.numWaiting(), out.totalScheduledTokens(), stepNanos,
          out.preemptedIds().size(), out.newSequences().size() + out.cachedSequences().size(),
          timing != null ? timing.path() : s.backend.name(), timing != null ? timing.hostNanos() : stepNanos,
          timing != null ? timing.gpuMicros() : Double.NaN, timing != null ? timing.idleGapMicros() : Double.NaN,
          result.profile(), s.backend.lastExpertLoad(), s.allReducesSinceReported()));
    }
    for (Sequence seq : outcome.parked()) {
      events.accept(new EngineEvent.KvReady(seq.id(), seq.numComputedTokens()));
    }
    reportPrefixCache(s);
  }

  /** Tells the owner what the prefix cache gained, lost and served since the last report, if anything. */
  private void reportPrefixCache(State s) {
    KvBlockManager.CacheChanges changes = s.scheduler.drainCacheChanges();
    long queried = s.scheduler.prefixQueriedTokens() - s.prefixQueried;
    long hits = s.scheduler.prefixHitTokens() - s.prefixHits;
    long deferred = s.scheduler.prefixDeferredAdmissions() - s.prefixDeferred;
    if (changes.isEmpty() && queried == 0) return;
    s.prefixQueried += queried;
    s.prefixHits += hits;
    s.prefixDeferred += deferred;
    events.accept(new EngineEvent.PrefixCacheChanged(changes.added(), changes.evicted(), queried, hits, deferred));
  }
}
