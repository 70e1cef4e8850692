package io.decodefleet.coordinator.run;

import io.decodefleet.agent.engine.VerifyResult;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.fleet.FleetScope;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.metrics.AgentDescription;
import io.decodefleet.coordinator.metrics.MetricsRecorder;
import io.decodefleet.coordinator.metrics.RequestObserver;
import io.decodefleet.coordinator.metrics.VerificationSummary;
import io.decodefleet.coordinator.workload.ReleaseSchedule;
import io.decodefleet.coordinator.workload.RequestSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One benchmark on a loaded fleet: releases the requests at their arrival times (holding them back
 * while {@code maxConcurrency} are outstanding), submits each through its host's {@link RunRequest}
 * port, and records every token event on the coordinator's clock. Hands the outcome to the host once
 * no request is outstanding.
 */
public final class BenchmarkRun extends AbstractBehavior<BenchmarkRun.Command> {

  public interface Command {}

  static final Duration PROGRESS_INTERVAL = Duration.ofMillis(200);

  /**
   * Wakes runs at their next arrival. Not the actor system's timers: those fire on the scheduler's
   * 10 ms ticks, which released a Poisson schedule up to 30 ms late and several arrivals at once (a
   * burstier load than the one asked for, and shared prefill steps it should not have); a scheduled
   * executor parks for the wait itself.
   */
  private static final java.util.concurrent.ScheduledExecutorService RELEASES =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "benchmark-releases");
        t.setDaemon(true);
        return t;
      });

  private record Event(SequenceEvent event) implements Command {}

  private enum ReleaseDue implements Command { INSTANCE }

  private record StateAtStart(ClusterSnapshot state) implements Command {}

  private record StateAtEnd(ClusterSnapshot state) implements Command {}

  private final ActorContext<Command> context;
  /** The wake-up for the next arrival, if one is pending. */
  private java.util.concurrent.ScheduledFuture<?> nextRelease;
  private final BenchmarkSpec spec;
  private final ActorRef<RunRequest> host;
  private final ActorRef<RunProgress> progress;
  private final ActorRef<SequenceEvent> events;
  private final MetricsRecorder recorder;
  private final Map<Long, int[]> outputTokens = new HashMap<>();
  private final ReleaseSchedule schedule;
  /** Whether the workload has conversations: then each released prompt is kept for the next turn. */
  private final boolean conversations;
  private final Map<Long, int[]> prompts = new HashMap<>();
  private final VerificationTotals verification = new VerificationTotals();
  private ClusterSnapshot atStart;
  /** The run's agents, chosen once at its start: the first worldSize live loaded agents. */
  private List<String> runAgents = List.of();
  private int outstanding;
  private long startNanos;
  private long endNanos;
  private long lastProgressNanos;

  /**
   * @param host the coordinator, through its run port; the outcome reaches the caller through it
   * @param observer hears every request's tokens and completion (the process's live metrics)
   */
  public static Behavior<Command> create(BenchmarkSpec spec, ActorRef<RunRequest> host, ActorRef<RunProgress> progress,
      RequestObserver observer) {
    return Behaviors.setup(ctx -> new BenchmarkRun(ctx, spec, host, progress, observer));
  }

  private BenchmarkRun(ActorContext<Command> context, BenchmarkSpec spec, ActorRef<RunRequest> host,
      ActorRef<RunProgress> progress, RequestObserver observer) {
    super(context);
    this.recorder = new MetricsRecorder(observer);
    this.context = context;
    this.spec = spec;
    this.host = host;
    this.progress = progress;
    this.schedule = new ReleaseSchedule(spec.requests(), spec.maxConcurrency());
    this.conversations = spec.requests().stream().anyMatch(RequestSpec::followsTurn);
    this.events = context.messageAdapter(SequenceEvent.class, Event::new);
    host.tell(new RunRequest.Snapshot(context.messageAdapter(ClusterSnapshot.class, StateAtStart::new)));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(StateAtStart.class, this::onStateAtStart)
        .onMessage(ReleaseDue.class, msg -> onReleaseDue())
        .onMessage(Event.class, this::onEvent)
        .onMessage(StateAtEnd.class, this::onStateAtEnd)
        .onSignal(org.apache.pekko.actor.typed.PostStop.class, signal -> {
          if (nextRelease != null) nextRelease.cancel(false);
          return this;
        })
        .build();
  }

  private Behavior<Command> onStateAtStart(StateAtStart msg) {
    atStart = msg.state();
    runAgents = FleetScope.firstLive(atStart.agents(), a -> a.loaded() && a.alive(), spec.worldSize()).stream()
        .map(AgentSnapshot::agentId).toList();
    startNanos = System.nanoTime();
    lastProgressNanos = startNanos;
    return onReleaseDue();
  }

  private Behavior<Command> onReleaseDue() {
    submitDue();
    long wait = schedule.nanosUntilNextArrival(System.nanoTime() - startNanos);
    if (wait >= 0) {
      ActorRef<Command> self = context.getSelf();
      nextRelease = RELEASES.schedule(() -> self.tell(ReleaseDue.INSTANCE), wait,
          java.util.concurrent.TimeUnit.NANOSECONDS);
    }
    return finishIfDone();
  }

  /** Submits the requests the schedule releases: arrived, while the concurrency limit allows. */
  private void submitDue() {
    for (RequestSpec r : schedule.release(System.nanoTime() - startNanos, outstanding)) {
      if (conversations) prompts.put(r.requestId(), r.promptTokens());
      recorder.requestReleased(r.requestId(), r.promptTokens().length, r.maxTokens(), System.nanoTime());
      outstanding++;
      host.tell(new RunRequest.Place(r.requestId(), r.promptTokens(), r.maxTokens(), spec.worldSize(),
          spec.placement(), events));
    }
  }

  private Behavior<Command> onEvent(Event msg) {
    SequenceEvent e = msg.event();
    if (e instanceof SequenceEvent.Accepted) return this; // a run is the Coordinator's child: it is not lost apart
    if (e instanceof SequenceEvent.Tokens t) {
      recorder.tokensArrived(t.requestId(), t.agentId(), t.tokens().length, t.nanos());
      outputTokens.merge(t.requestId(), t.tokens(), BenchmarkRun::concat);
    } else if (e instanceof SequenceEvent.Finished f) {
      recorder.requestFinished(f.requestId(), f.reason(), f.queueNanos(), f.prefillNanos(), f.nanos());
      verification.add(f.requestId(), f.verify());
      outstanding--;
      if (conversations) {
        schedule.finished(f.requestId(), prompts.remove(f.requestId()), outputTokens.getOrDefault(f.requestId(),
            new int[0]));
      }
    } else if (e instanceof SequenceEvent.Failed f) {
      recorder.requestFailed(f.requestId(), f.reason(), f.nanos());
      outstanding--;
      for (RequestSpec dropped : schedule.failed(f.requestId())) {
        recorder.requestReleased(dropped.requestId(), 0, dropped.maxTokens(), f.nanos());
        recorder.requestFailed(dropped.requestId(), "an earlier turn of its conversation failed", f.nanos());
      }
    } else if (e instanceof SequenceEvent.Migrated m) {
      recorder.requestMigrated(m.requestId(), m.fromAgent(), m.toAgent());
    }
    if (!(e instanceof SequenceEvent.Tokens)) submitDue();
    maybeReportProgress(false);
    return finishIfDone();
  }

  private void maybeReportProgress(boolean force) {
    if (progress == null) return;
    long now = System.nanoTime();
    if (!force && now - lastProgressNanos < PROGRESS_INTERVAL.toNanos()) return;
    lastProgressNanos = now;
    progress.tell(new RunProgress(spec.worldSize(), recorder.completed(), recorder.failed(), spec.requests().size(),
        recorder.outputTokens(), now - startNanos));
  }

  private Behavior<Command> finishIfDone() {
    if (endNanos != 0 || !schedule.allReleased() || outstanding > 0) return this;
    endNanos = System.nanoTime();
    maybeReportProgress(true);
    host.tell(new RunRequest.Snapshot(context.messageAdapter(ClusterSnapshot.class, StateAtEnd::new)));
    return this;
  }

  private Behavior<Command> onStateAtEnd(StateAtEnd msg) {
    ClusterSnapshot atEnd = msg.state();
    // Through the host, so it knows the run is over before the caller can start another.
    host.tell(new RunRequest.Ended(new RunOutcome(null, recorder.summarize(startNanos, endNanos),
        recorder.requests(startNanos), Map.copyOf(outputTokens), agentLines(atEnd), RunTotals.engine(atStart, atEnd, runAgents),
        spec.model().verifyFraction() > 0 ? verification.summary() : null)));
    return Behaviors.stopped();
  }

  /** The run's agents as they are in {@code state}. */
  private List<AgentSnapshot> inScope(ClusterSnapshot state) {
    return state.agents().stream().filter(a -> runAgents.contains(a.agentId())).toList();
  }

  private List<AgentDescription> agentLines(ClusterSnapshot state) {
    return inScope(state).stream().map(a -> new AgentDescription(a.agentId(), a.device(), a.backend(), a.nodeAddress(),
        a.alive(), a.kvBlocks(), a.blockSize(), a.loadReport())).toList();
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** Totals of the agents' recompute checks. */
  private static final class VerificationTotals {
    private int checked;
    private int failures;
    private double worst;
    private double tolerance;
    private final List<String> details = new ArrayList<>();

    void add(long requestId, VerifyResult v) {
      if (v == null || !v.checked()) return;
      checked++;
      tolerance = Math.max(tolerance, v.tolerance());
      if (!Double.isNaN(v.maxRelError())) worst = Math.max(worst, v.maxRelError());
      if (!v.passed()) {
        failures++;
        if (details.size() < 10) details.add("request " + requestId + ": " + v.detail());
      }
    }

    VerificationSummary summary() {
      return new VerificationSummary(checked > 0 && failures == 0, checked, failures, worst, tolerance, details);
    }
  }
}
