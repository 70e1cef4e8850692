package io.decodefleet.coordinator;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.fleet.AgentInfo;
import io.decodefleet.coordinator.fleet.AgentRegistry;
import io.decodefleet.coordinator.fleet.FleetAgent;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.fleet.SequenceEvent.FailureKind;
import io.decodefleet.coordinator.fleet.SequencePlacement;
import io.decodefleet.coordinator.kv.DisaggregatedKvGroup;
import io.decodefleet.coordinator.kv.KvDrainTransfers;
import io.decodefleet.coordinator.observability.CoordinatorMetrics;
import io.decodefleet.coordinator.observability.FleetCounts;
import io.decodefleet.coordinator.run.BenchmarkRun;
import io.decodefleet.coordinator.run.BenchmarkSpec;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import io.decodefleet.coordinator.run.RunOutcome;
import io.decodefleet.coordinator.run.RunProgress;
import io.decodefleet.coordinator.run.RunRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The cluster singleton: finds agents through the Receptionist, loads a model on a fleet of them
 * (in a parallel layout: data-parallel, or disaggregated prefill/decode with its KV-transfer group,
 * see {@link DisaggregatedKvGroup}), places every sequence (from benchmarks or API clients) on an agent,
 * streams its tokens back to its submitter, and re-places the unfinished sequences of an agent that
 * is lost or drained — with the prompt and every token so far, or a drained one's with its KV
 * ({@link KvDrainTransfers}), so the stream continues without gaps or duplicates (the bookkeeping of
 * sequences is {@link SequencePlacement}'s).
 */
public final class Coordinator extends AbstractBehavior<Coordinator.Command> {

  public interface Command {}

  /**
   * Load {@code model} on the first {@code worldSize} agents (by id) once that many have joined, in
   * {@code layout} (for a disaggregated one the fleet is ready once its KV-transfer group formed).
   *
   * @param adopt serve mode: agents that already hold this model keep their engine, and a fleet
   *     that serves another model or layout is not replaced (every coordinator node of a cluster
   *     serves the same); false: fresh engines, as a benchmark wants them
   */
  public record LoadFleet(int worldSize, ModelSpec model, Duration timeout, ParallelLayout layout, boolean adopt,
      ActorRef<FleetStatus> replyTo) implements Command {
    /** Fresh engines. */
    public LoadFleet(int worldSize, ModelSpec model, Duration timeout, ParallelLayout layout,
        ActorRef<FleetStatus> replyTo) {
      this(worldSize, model, timeout, layout, false, replyTo);
    }

    /** Data-parallel, fresh engines. */
    public LoadFleet(int worldSize, ModelSpec model, Duration timeout, ActorRef<FleetStatus> replyTo) {
      this(worldSize, model, timeout, ParallelLayout.DATA_PARALLEL, replyTo);
    }
  }

  public sealed interface FleetStatus {}

  public record FleetReady(ClusterSnapshot state) implements FleetStatus {}

  public record FleetFailed(String reason) implements FleetStatus {}

  /**
   * Place one sequence (among the first {@code worldSize} loaded agents, 0: all); events go to
   * {@code subscriber}. Its fields are checked once, in {@link SequencePlacement#submit}.
   */
  public record Submit(long requestId, int[] prompt, int maxTokens, SamplingParams sampling, int worldSize,
      String placement, ActorRef<SequenceEvent> subscriber) implements Command {}

  /** Stop a submitted sequence (its submitter went away or needs no more tokens); nothing is told back. */
  public record Cancel(long requestId, ActorRef<SequenceEvent> subscriber) implements Command {}

  /** Load the fleet if needed, then run a benchmark on it. */
  public record RunBenchmark(BenchmarkSpec spec, ActorRef<RunProgress> progress, ActorRef<RunOutcome> replyTo)
      implements Command {}

  public record GetClusterState(ActorRef<ClusterSnapshot> replyTo) implements Command {}

  /** From the active BenchmarkRun, through its port. */
  private record FromRun(RunRequest request) implements Command {}

  private record AgentsListed(Receptionist.Listing listing) implements Command {}

  private record AgentReported(AgentReport report) implements Command {}

  private record LoadTimedOut(int attempt) implements Command {}

  private record FleetStatusForRun(FleetStatus status) implements Command {}

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<AgentReport> reportAdapter;
  private final ActorRef<FleetStatus> runFleetAdapter;
  private final AgentRoster roster = new AgentRoster();
  private final List<FleetAgent> fleet = new ArrayList<>();
  private final Map<String, FleetAgent> fleetById = new HashMap<>();
  private final FleetRejoins rejoins = new FleetRejoins(fleet, fleetById);
  private ModelSpec fleetModel;
  private ParallelLayout fleetLayout = ParallelLayout.DATA_PARALLEL;
  /** The disaggregated layout's group and hand-offs; null for data-parallel fleets. */
  private DisaggregatedKvGroup disagg;
  private PendingLoad pendingLoad;
  private int loadAttempt;
  private final SequencePlacement sequences;
  private final KvDrainTransfers migration;
  private long nextGlobalId = 1;
  private RunBenchmark pendingRun;
  private ActorRef<BenchmarkRun.Command> activeRun;
  /** Who asked for the active run: its outcome goes there. */
  private ActorRef<RunOutcome> activeRunReplyTo;
  /** The port every run of this coordinator talks through. */
  private final ActorRef<RunRequest> runPort;
  private int agentsLost;

  /** This process's /metrics: fed with every report of the fleet, its counts and every run's requests. */
  private final CoordinatorMetrics metrics;

  public static Behavior<Command> create(CoordinatorMetrics metrics) {
    return create(metrics, java.util.Optional.empty());
  }

  /** @param served the fleet this node serves: loaded as soon as the coordinator starts ({@link FleetTakeover}) */
  public static Behavior<Command> create(CoordinatorMetrics metrics, java.util.Optional<ServedFleet> served) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Coordinator(ctx, timers, metrics, served)));
  }

  private Coordinator(ActorContext<Command> context, TimerScheduler<Command> timers, CoordinatorMetrics metrics,
      java.util.Optional<ServedFleet> served) {
    super(context);
    this.context = context;
    this.metrics = metrics;
    this.timers = timers;
    this.reportAdapter = context.messageAdapter(AgentReport.class, AgentReported::new);
    this.runFleetAdapter = context.messageAdapter(FleetStatus.class, FleetStatusForRun::new);
    this.runPort = context.messageAdapter(RunRequest.class, FromRun::new);
    this.sequences = new SequencePlacement(fleet, context.getLog());
    this.migration = new KvDrainTransfers(fleet, sequences, reportAdapter, context.getLog());
    ActorRef<Receptionist.Listing> listingAdapter = context.messageAdapter(Receptionist.Listing.class, AgentsListed::new);
    context.getSystem().receptionist().tell(Receptionist.subscribe(AgentCommand.SERVICE_KEY, listingAdapter));
    served.ifPresent(fleet -> context.spawn(FleetTakeover.create(fleet, context.getSelf()), "fleet-takeover"));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(LoadFleet.class, this::onLoadFleet)
        .onMessage(Submit.class, this::onSubmit)
        .onMessage(Cancel.class, this::onCancel)
        .onMessage(RunBenchmark.class, this::onRunBenchmark)
        .onMessage(GetClusterState.class, this::onGetClusterState)
        .onMessage(FromRun.class, this::onFromRun)
        .onMessage(AgentsListed.class, this::onAgentsListed)
        .onMessage(AgentReported.class, this::onAgentReported)
        .onMessage(LoadTimedOut.class, this::onLoadTimedOut)
        .onMessage(FleetStatusForRun.class, this::onFleetStatusForRun)
        .onSignal(Terminated.class, this::onRunTerminated)
        .build();
  }

  // ---- fleet ------------------------------------------------------------------------------------

  private Behavior<Command> onLoadFleet(LoadFleet msg) {
    if (msg.worldSize() < 1) {
      msg.replyTo().tell(new FleetFailed("world size must be >= 1, got " + msg.worldSize()));
    } else if (msg.layout().agents() > 0 && msg.layout().agents() != msg.worldSize()) {
      msg.replyTo().tell(new FleetFailed("layout " + msg.layout().label() + " needs a world size of "
          + msg.layout().agents() + ", got " + msg.worldSize()));
    } else if (fleetServes(msg.worldSize(), msg.model(), msg.layout())) {
      msg.replyTo().tell(new FleetReady(snapshot()));
    } else if (msg.adopt() && fleetModel != null && !(fleetModel.equals(msg.model()) && fleetLayout.equals(msg.layout()))) {
      msg.replyTo().tell(new FleetFailed("the fleet serves " + fleetModel + " (" + fleetLayout.label() + "), not "
          + msg.model() + " (" + msg.layout().label() + "): every coordinator of a cluster serves the same fleet"));
    } else if (pendingLoad != null) {
      if (pendingLoad.request.model().equals(msg.model()) && pendingLoad.request.layout().equals(msg.layout())
          && pendingLoad.request.worldSize() >= msg.worldSize()) {
        pendingLoad.waiters.add(msg.replyTo());
      } else {
        msg.replyTo().tell(new FleetFailed("another model load is in progress"));
      }
    } else if (sequences.count() > 0) {
      msg.replyTo().tell(new FleetFailed("cannot reload the fleet while " + sequences.count() + " sequences run"));
    } else {
      pendingLoad = new PendingLoad(msg);
      timers.startSingleTimer(LoadTimedOut.class, new LoadTimedOut(++loadAttempt), msg.timeout());
      startLoadIfReady();
    }
    return this;
  }

  private boolean fleetServes(int worldSize, ModelSpec model, ParallelLayout layout) {
    if (!model.equals(fleetModel) || !layout.equals(fleetLayout) || pendingLoad != null) return false;
    if (disagg != null) return disagg.intact() && fleet.size() == worldSize && fleet.stream().allMatch(a -> a.placeable);
    return fleet.stream().filter(a -> a.loaded && a.placeable).count() >= worldSize;
  }

  private void startLoadIfReady() {
    if (pendingLoad == null || pendingLoad.loading) return;
    int n = pendingLoad.request.worldSize();
    List<AgentInfo> candidates = roster.sorted(pendingLoad.request.layout());
    if (candidates.size() < n) return;
    pendingLoad.loading = true;
    fleet.clear();
    fleetById.clear();
    fleetModel = null;
    fleetLayout = ParallelLayout.DATA_PARALLEL;
    disagg = null;
    sequences.useDisaggregation(null);
    migration.useGroup(null);
    List<AgentInfo> agents = candidates.subList(0, n);
    for (int i = 0; i < n; i++) {
      FleetAgent agent = new FleetAgent(agents.get(i), i);
      fleet.add(agent);
      fleetById.put(agent.info.agentId(), agent);
      agent.info.ref().tell(new AgentCommand.LoadModel(pendingLoad.request.model(), reportAdapter,
          pendingLoad.request.adopt()));
    }
  }

  private Behavior<Command> onLoadTimedOut(LoadTimedOut msg) {
    if (pendingLoad == null || msg.attempt() != loadAttempt) return this;
    if (disagg == null && migration.forming()) {
      migration.breakGroup("it did not form within " + pendingLoad.request.timeout().toSeconds() + " s"); // ready
      return this;
    }
    failLoad(disagg != null ? disagg.describeTimeout() : pendingLoad.timeoutReason(fleet.stream().filter(a -> a.loaded)
        .count(), roster.sorted(pendingLoad.request.layout()).size(), roster.lastRefusal()));
    return this;
  }

  private void failLoad(String reason) {
    if (pendingLoad == null) return;
    for (ActorRef<FleetStatus> w : pendingLoad.waiters) w.tell(new FleetFailed(reason));
    pendingLoad = null;
    if (disagg != null) disagg.breakGroup("the fleet failed to load: " + reason);
    disagg = null;
    sequences.useDisaggregation(null);
    migration.useGroup(null);
    fleet.clear();
    fleetById.clear();
    fleetModel = null;
  }

  private void onModelLoaded(AgentReport.ModelLoaded m) {
    FleetAgent agent = fleetById.get(m.agentId());
    if (rejoins.reported(m) || agent == null || pendingLoad == null) return;
    agent.loaded(m);
    if (fleet.stream().allMatch(a -> a.loaded) && disagg == null) {
      if (pendingLoad.request.layout() instanceof ParallelLayout.Disaggregated layout) {
        // The fleet is ready once its KV-transfer group formed: a fresh time limit for that.
        timers.startSingleTimer(LoadTimedOut.class, new LoadTimedOut(++loadAttempt), pendingLoad.request.timeout());
        disagg = new DisaggregatedKvGroup(layout, fleet, reportAdapter, pendingLoad.request.timeout(), new DisaggregatedKvGroup.Host(
            this::fleetReady, this::failLoad, sequences::get, sequences::replace, context.getLog()::warn));
        sequences.useDisaggregation(disagg);
        migration.useGroup(disagg);
        disagg.start();
        return;
      }
      if (migration.formGroup(pendingLoad.request.layout(), pendingLoad.request.timeout(), this::fleetReady)) {
        // Ready once the group formed or gave up (agents block while joining): a fresh time limit.
        timers.startSingleTimer(LoadTimedOut.class, new LoadTimedOut(++loadAttempt), pendingLoad.request.timeout());
        return;
      }
      fleetReady();
    }
  }

  private void fleetReady() {
    if (pendingLoad == null) return;
    fleetModel = pendingLoad.request.model();
    sequences.useModel(fleetModel);
    fleetLayout = pendingLoad.request.layout();
    timers.cancel(LoadTimedOut.class);
    List<ActorRef<FleetStatus>> waiters = pendingLoad.waiters;
    pendingLoad = null;
    ClusterSnapshot state = snapshot();
    for (ActorRef<FleetStatus> w : waiters) w.tell(new FleetReady(state));
  }

  // ---- sequences --------------------------------------------------------------------------------

  private Behavior<Command> onSubmit(Submit msg) {
    if (fleetModel == null) {
      msg.subscriber().tell(new SequenceEvent.Failed(msg.requestId(), FailureKind.UNAVAILABLE,
          "no model is loaded on the cluster", System.nanoTime()));
      return this;
    }
    msg.subscriber().tell(new SequenceEvent.Accepted(msg.requestId(), context.getSelf()));
    sequences.submit(nextGlobalId++, msg.requestId(), msg.prompt(), msg.maxTokens(), msg.sampling(), msg.worldSize(),
        msg.placement(), msg.subscriber(), ModelConfig.resolve(fleetModel.model()).vocabSize());
    return this;
  }

  private Behavior<Command> onCancel(Cancel msg) {
    sequences.cancel(msg.requestId(), msg.subscriber());
    return this;
  }

  // ---- membership -------------------------------------------------------------------------------

  private Behavior<Command> onAgentsListed(AgentsListed msg) {
    Set<ActorRef<AgentCommand>> now = msg.listing().getServiceInstances(AgentCommand.SERVICE_KEY);
    roster.listed(now, reportAdapter);
    for (FleetAgent agent : fleet) {
      if (agent.alive && !now.contains(agent.info.ref())) {
        agent.lost();
        agentsLost++;
        context.getLog().warn("agent {} left the cluster; re-placing its sequences", agent.info.agentId());
        if (pendingLoad != null && pendingLoad.loading) {
          failLoad("agent " + agent.info.agentId() + " left the cluster while loading the model");
          break;
        }
        migration.agentLost(agent);
        sequences.evacuate(agent, sequences.on(agent), "agent " + agent.info.agentId() + " lost");
      }
    }
    countFleet();
    return this;
  }

  private Behavior<Command> onAgentReported(AgentReported msg) {
    AgentReport report = msg.report();
    if (report instanceof AgentReport.Registered r) {
      if (!roster.registered(r, AgentRegistry.liveNodes(Cluster.get(context.getSystem())), context.getLog())) {
        return this;
      }
      startLoadIfReady();
      rejoins.offer(roster.admitted(r.agent()), disagg == null && pendingLoad == null ? fleetModel : null, reportAdapter);
      return countFleet();
    }
    FleetAgent from = fleetById.get(report.agentId());
    if (from != null) metrics.reported(modelName(), report);
    if (from != null && migration.onReport(report, from)) return countFleet();
    if (report instanceof AgentReport.ModelLoaded m) {
      onModelLoaded(m);
    } else if (report instanceof AgentReport.LoadFailed m && pendingLoad != null && fleetById.containsKey(m.agentId())) {
      failLoad("agent " + m.agentId() + " could not load model " + pendingLoad.request.model().model() + ": "
          + m.reason());
    } else if (report instanceof AgentReport.StepReport m && from != null) {
      from.stepped(m);
      sequences.stepped(m, from);
    } else if (report instanceof AgentReport.PrefixCacheReport m && from != null) {
      from.prefixCached(m);
    } else if (report instanceof AgentReport.SequenceFailed m && from != null) {
      sequences.failed(m, from);
    } else if (report instanceof AgentReport.Drained m && from != null) {
      migration.drained(m, from);
    }
    return countFleet();
  }

  private String modelName() {
    return fleetModel == null ? "" : fleetModel.model();
  }

  /** Hands the fleet's counts to /metrics (after anything that may change them). */
  private Behavior<Command> countFleet() {
    metrics.counted(FleetCounts.of(modelName(), roster.size(), fleet, agentsLost, sequences));
    return this;
  }

  // ---- benchmarks and state ---------------------------------------------------------------------

  private Behavior<Command> onRunBenchmark(RunBenchmark msg) {
    if (activeRun != null || pendingRun != null) {
      msg.replyTo().tell(RunOutcome.failed("a benchmark is already running on this cluster"));
      return this;
    }
    BenchmarkSpec spec = msg.spec();
    if (spec.worldSize() <= 0) {
      long live = fleet.stream().filter(a -> a.placeable).count();
      if (fleetModel == null || live == 0) {
        msg.replyTo().tell(RunOutcome.failed("world size 0 means every live agent, and none is loaded"));
        return this;
      }
      spec = spec.withWorldSize((int) live);
      msg = new RunBenchmark(spec, msg.progress(), msg.replyTo());
    }
    pendingRun = msg;
    return onLoadFleet(new LoadFleet(spec.worldSize(), spec.model(), spec.agentTimeout(), spec.layout(),
        runFleetAdapter));
  }

  private Behavior<Command> onFleetStatusForRun(FleetStatusForRun msg) {
    RunBenchmark run = pendingRun;
    pendingRun = null;
    if (run == null) return this;
    if (msg.status() instanceof FleetFailed failed) {
      run.replyTo().tell(RunOutcome.failed(failed.reason()));
      return this;
    }
    FleetAgent.profileNextSteps(fleet, run.spec().worldSize(), run.spec().profileSteps());
    activeRun = context.spawnAnonymous(BenchmarkRun.create(run.spec(), runPort, run.progress(),
        metrics.requests(run.spec().model().model())));
    activeRunReplyTo = run.replyTo();
    context.watch(activeRun);
    return this;
  }

  private Behavior<Command> onGetClusterState(GetClusterState msg) {
    msg.replyTo().tell(snapshot());
    return this;
  }

  private ClusterSnapshot snapshot() {
    return new ClusterSnapshot(fleetModel == null ? null : fleetModel.model(), fleetModel == null ? 0 : fleet.size(),
        roster.snapshots(fleet), agentsLost, sequences.migrations(), migration.transfers(), sequences.kvMigrations());
  }

  /** A run's request, in the Coordinator's own terms. */
  private Behavior<Command> onFromRun(FromRun msg) {
    RunRequest r = msg.request();
    if (r instanceof RunRequest.Snapshot s) {
      return onGetClusterState(new GetClusterState(s.replyTo()));
    } else if (r instanceof RunRequest.Place p) {
      return onSubmit(new Submit(p.requestId(), p.prompt(), p.maxTokens(), SamplingParams.GREEDY, p.worldSize(),
          p.placement(), p.subscriber()));
    } else if (r instanceof RunRequest.Ended e) {
      ActorRef<RunOutcome> replyTo = activeRunReplyTo;
      activeRun = null;
      activeRunReplyTo = null;
      if (replyTo != null) replyTo.tell(e.outcome());
    }
    return this;
  }

  private Behavior<Command> onRunTerminated(Terminated msg) {
    if (msg.getRef().equals(activeRun)) activeRun = null;
    return this;
  }
}
