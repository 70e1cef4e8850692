package io.decodefleet.agent.engine;

import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.agent.protocol.ModelSpec;
import io.decodefleet.agent.protocol.SequenceSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One agent's decode engine on its own thread: load the model, then loop schedule → execute →
 * update, reporting each step to a {@link Listener}. Commands arrive through a queue; the thread
 * blocks on it only when there is no work.
 */
public final class Engine {

  /** Called on the engine thread; implementations hand off (e.g. tell an actor) and return at once. */
  public interface Listener {
    void loaded(AgentReport.ModelLoaded loaded);

    void loadFailed(String reason);

    void stepped(AgentReport.StepReport report);

    void rejected(long sequenceId, String reason);

    void drained(List<Long> unfinishedSequenceIds);

    /**
     * Drained, keeping {@code heldKv}'s sequences parked with their KV for a move: each waits for a
     * {@link Engine#sendKv} (a peer, or a negative one to release it). What the engine calls.
     */
    default void drained(List<Long> unfinishedSequenceIds, List<AgentReport.HeldKv> heldKv) {
      drained(unfinishedSequenceIds);
    }

    /** The engine died; every unfinished sequence is listed so it can be placed elsewhere. */
    void crashed(String reason, List<Long> unfinishedSequenceIds);

    /**
     * A KV-transfer report (KvGroupId, KvGroupJoined, KvGroupFailed, KvReady, KvTransferred), in
     * order with the step reports: a KvReady follows the step report that carried the token.
     */
    default void kvReported(AgentReport report) {}
  }

  private sealed interface Command permits Submit, Drain, Stop, NewKvGroupId, JoinKvGroup, AbortKvGroup, SendKv,
      ReceiveKv {}

  private record Submit(List<SequenceSpec> sequences) implements Command {}

  private enum Drain implements Command { INSTANCE }

  private enum Stop implements Command { INSTANCE }

  private enum NewKvGroupId implements Command { INSTANCE }

  private record JoinKvGroup(KvGroupSpec spec) implements Command {}

  private record AbortKvGroup(String reason) implements Command {}

  private record SendKv(long sequenceId, int peer) implements Command {}

  private record ReceiveKv(KvArrival arrival) implements Command {}

  /** This process, as ModelLoaded names it: random per JVM, so agents of one process recognise each other. */
  private static final String PROCESS = ProcessHandle.current().pid() + "/" + java.util.UUID.randomUUID();

  /** How long the loop waits for a command while only transfers are in flight (their poll interval). */
  private static final long HANDOFF_POLL_MICROS = 100;

  private final String agentId;
  private final ModelSpec spec;
  private final Supplier<Backend> backendFactory;
  private final Listener listener;
  private final LinkedBlockingQueue<Command> inbox = new LinkedBlockingQueue<>();
  private final Thread thread;
  /** Set once loaded; read by {@link #abortKvGroup} from other threads. */
  private volatile KvHandoff handoff;

  public Engine(String agentId, ModelSpec spec, Supplier<Backend> backendFactory, Listener listener) {
    this.agentId = agentId;
    this.spec = spec;
    this.backendFactory = backendFactory;
    this.listener = listener;
    this.thread = new Thread(this::run, "engine-" + agentId);
    this.thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  public void submit(List<SequenceSpec> sequences) {
    inbox.add(new Submit(List.copyOf(sequences)));
  }

  /**
   * Finish nothing more: hand back every unfinished sequence through Listener.drained. In a usable
   * KV-transfer group, the sequences whose KV is complete are kept parked for a move instead.
   */
  public void drain() {
    inbox.add(Drain.INSTANCE);
  }

  public void stop() {
    inbox.add(Stop.INSTANCE);
  }

  /** Make a unique id for a KV-transfer group: answered through Listener.kvReported. */
  public void createKvGroupId() {
    inbox.add(NewKvGroupId.INSTANCE);
  }

  /** Join a KV-transfer group (on the engine thread, which blocks until every rank joined). */
  public void joinKvGroup(KvGroupSpec spec) {
    inbox.add(new JoinKvGroup(spec));
  }

  /**
   * Abort the KV-transfer group: at once from the calling thread (an engine blocked on a dead
   * peer is freed by it), then on the engine thread.
   */
  public void abortKvGroup(String reason) {
    KvHandoff h = handoff;
    if (h != null) h.abort(reason);
    inbox.add(new AbortKvGroup(reason));
  }

  /** Send a parked sequence's KV to group rank {@code peer} (a negative peer releases it unsent). */
  public void sendKv(long sequenceId, int peer) {
    inbox.add(new SendKv(sequenceId, peer));
  }

  /** Receive a sequence's KV and decode it from there. */
  public void receiveKv(KvArrival arrival) {
    inbox.add(new ReceiveKv(arrival));
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
      ModelConfig config = ModelConfig.preset(spec.model());
      backend.loadModel(config, spec.seed());
      int blocks = spec.kvBlocks() > 0 ? spec.kvBlocks() : backend.kvBlockCapacity(spec.blockSize());
      if (blocks < 1) throw new IllegalStateException("no memory left for even one KV block");
      backend.allocateKvCache(blocks, spec.blockSize());
      int maxModelLen = Math.min(config.maxPositionEmbeddings(), blocks * spec.blockSize());
      state = new State(config, backend, blocks, maxModelLen);
      listener.loaded(new AgentReport.ModelLoaded(agentId, blocks, spec.blockSize(), spec.maxNumSeqs(), maxModelLen,
          (System.nanoTime() - t0) / 1_000_000, backend.kvTransferUnsupported().orElse(""), PROCESS));
    } catch (RuntimeException | OutOfMemoryError e) {
      if (backend != null) {
        closeQuietly(backend); // a GPU backend holds device memory and a context until closed
      }
      listener.loadFailed(describe(e));
      return;
    }
    handoff = state.handoff;
    try (Backend ignored = backend) {
      try {
        loop(state);
      } finally {
        state.handoff.close(); // before the backend: the group's buffers live in its memory
      }
    } catch (RuntimeException | OutOfMemoryError e) {
      state.handoff.reportCrash(describe(e));
      listener.crashed(describe(e), state.unfinishedIds());
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
    final KvHandoff handoff;
    long step;

    State(ModelConfig config, Backend backend, int blocks, int maxModelLen) {
      this.backend = backend;
      this.scheduler = new Scheduler(new SchedulerConfig(spec.maxNumSeqs(), spec.maxBatchedTokens(), maxModelLen),
          new KvBlockManager(blocks, spec.blockSize()));
      this.runner = new ModelRunner(backend, spec.blockSize(), config.vocabSize());
      this.verifier = new RecomputeVerifier(spec.verifyFraction(), config.vocabSize());
      this.handoff = new KvHandoff(agentId, listener, scheduler, inFlight, spec.blockSize());
    }

    List<Long> unfinishedIds() {
      return List.copyOf(inFlight);
    }
  }

  private void loop(State s) {
    while (true) {
      Command cmd;
      try {
        cmd = s.scheduler.hasWork() ? inbox.poll()
            : s.handoff.busy() ? inbox.poll(HANDOFF_POLL_MICROS, TimeUnit.MICROSECONDS)
            : inbox.poll(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (cmd instanceof Stop) return;
      if (cmd instanceof Drain) {
        List<AgentReport.HeldKv> held = new ArrayList<>();
        if (s.handoff.canSend()) {
          for (Sequence seq : s.scheduler.parkDecoding()) {
            held.add(new AgentReport.HeldKv(seq.id(), seq.numComputedTokens()));
            s.verifier.forget(seq.id()); // its decode goes on elsewhere
          }
        }
        List<Long> unfinished = new ArrayList<>();
        for (Sequence seq : s.scheduler.abortAll()) {
          unfinished.add(seq.id());
          s.verifier.forget(seq.id());
        }
        unfinished.addAll(s.handoff.orphanReceives());
        s.inFlight.clear();
        listener.drained(unfinished, held);
        continue;
      }
      if (cmd instanceof Submit submit) admit(s, submit.sequences());
      if (cmd != null && !(cmd instanceof Submit)) handoff(s, cmd);
      s.handoff.poll();
      if (cmd == null && s.scheduler.hasWork()) step(s);
    }
  }

  private void handoff(State s, Command cmd) {
    if (cmd instanceof NewKvGroupId) {
      s.handoff.newGroupId(s.backend);
    } else if (cmd instanceof JoinKvGroup join) {
      s.handoff.join(s.backend, join.spec());
    } else if (cmd instanceof AbortKvGroup abort) {
      s.handoff.abort(abort.reason());
    } else if (cmd instanceof SendKv send) {
      s.handoff.send(send.sequenceId(), send.peer());
    } else if (cmd instanceof ReceiveKv receive) {
      s.handoff.receive(receive.arrival());
    }
  }

  private void admit(State s, List<SequenceSpec> specs) {
    for (SequenceSpec spec : specs) {
      Optional<String> reason = s.scheduler.rejectionReason(spec.promptTokens().length, spec.maxTokens());
      if (spec.promptTokens().length == 0) reason = Optional.of("empty prompt");
      if (reason.isPresent()) {
        listener.rejected(spec.sequenceId(), reason.get());
        continue;
      }
      try {
        s.scheduler.add(new Sequence(spec.sequenceId(), spec.promptTokens(), spec.maxTokens(), spec.prefillOnly()));
        s.inFlight.add(spec.sequenceId());
      } catch (IllegalArgumentException e) {
        listener.rejected(spec.sequenceId(), e.getMessage());
      }
    }
  }


  private void step(State s) {
    long t0 = System.nanoTime();
    SchedulerOutput out = s.scheduler.schedule();
    ModelRunner.StepResult result = s.runner.execute(out, s.verifier::selects);
    for (var e : result.logits().entrySet()) s.verifier.record(e.getKey(), e.getValue());
    Scheduler.StepOutcome outcome = s.scheduler.update(out, result.sampled());
    List<AgentReport.SequenceTokens> tokens = new ArrayList<>(outcome.produced().size());
    for (Sequence seq : outcome.produced()) {
      tokens.add(new AgentReport.SequenceTokens(seq.id(), new int[] {result.sampled().get(seq.id())}));
    }
    for (Sequence seq : outcome.parked()) {
      s.inFlight.remove(seq.id()); // its decode goes on elsewhere
      s.verifier.forget(seq.id());
    }
    List<AgentReport.SequenceFinished> finished = new ArrayList<>(outcome.finished().size());
    for (Sequence seq : outcome.finished()) {
      s.inFlight.remove(seq.id());
      finished.add(new AgentReport.SequenceFinished(seq.id(), "length", seq.numOutputTokens(), seq.preemptions(),
          s.verifier.verify(seq, s.backend)));
    }
    long stepNanos = System.nanoTime() - t0;
    s.step++;
    if (!tokens.isEmpty() || !out.preemptedIds().isEmpty()) {
      // The backend's own account of the step (a graph replay or eager launches, host and device
      // time); a backend without one ran the whole step on the host.
      StepTiming timing = s.backend.lastStepTiming();
      listener.stepped(new AgentReport.StepReport(agentId, s.step, tokens, finished, s.scheduler.numFreeBlocks(),
          s.scheduler.numRunning(), s.scheduler.numWaiting(), out.totalScheduledTokens(), stepNanos,
          out.preemptedIds().size(), out.newSequences().size() + out.cachedSequences().size(),
          timing != null ? timing.path() : s.backend.name(), timing != null ? timing.hostNanos() : stepNanos,
          timing != null ? timing.gpuMicros() : Double.NaN, timing != null ? timing.idleGapMicros() : Double.NaN));
    }
    for (Sequence seq : outcome.parked()) {
      listener.kvReported(new AgentReport.KvReady(agentId, seq.id(), seq.numComputedTokens()));
    }
  }
}
