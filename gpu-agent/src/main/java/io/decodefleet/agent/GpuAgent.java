package io.decodefleet.agent;

import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.Engine;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.EngineEvent;
import io.decodefleet.agent.engine.SequenceSpec;
import io.decodefleet.agent.engine.kv.IncomingKvTransfer;
import io.decodefleet.agent.engine.kv.KvGroupSpec;
import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.agent.engine.kv.KvTransferOutcome;
import io.decodefleet.agent.observability.AgentMetrics;
import io.decodefleet.agent.protocol.AgentCommand.AbortKvGroup;
import io.decodefleet.agent.protocol.AgentCommand.AbortSequences;
import io.decodefleet.agent.protocol.AgentCommand.CreateKvGroupId;
import io.decodefleet.agent.protocol.AgentCommand.Drain;
import io.decodefleet.agent.protocol.AgentCommand.JoinKvGroup;
import io.decodefleet.agent.protocol.AgentCommand.LoadModel;
import io.decodefleet.agent.protocol.AgentCommand.ReceiveKv;
import io.decodefleet.agent.protocol.AgentCommand.Register;
import io.decodefleet.agent.protocol.AgentCommand.RegistrationRefused;
import io.decodefleet.agent.protocol.AgentCommand.SendKv;
import io.decodefleet.agent.protocol.AgentCommand.StartSequences;
import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import java.util.List;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * One agent per device: owns the device's decode engine (which runs on its own thread) and speaks
 * the cluster protocol for it: {@link AgentCommand}s in, {@link AgentReport}s out, to the address
 * given by the last {@link Register}. The engine's own events become reports in one place,
 * {@link #reportsOf}.
 *
 * <p>It serves one coordinator at a time and watches it: when the coordinator terminates (its node
 * left or was downed) or another one takes its place (a Register or LoadModel from a new address,
 * e.g. the singleton that took over), the engine aborts every sequence it runs, since nobody hears
 * their tokens any more, and their KV is free for the next coordinator's work.
 */
public final class GpuAgent extends AbstractBehavior<AgentCommand> {

  /**
   * Local only (SIGTERM on the daemon): stop taking work, hand every unfinished sequence back to the
   * coordinator (which re-places it, or moves its KV to another agent), then tell {@code whenDone}:
   * once the sends of the KV held for transfers are over, or after the KV group's timeout.
   */
  public record DrainForShutdown(ActorRef<org.apache.pekko.Done> whenDone) implements AgentCommand {}

  /** @param generation the LoadModel request whose engine told it (see the generation field) */
  private record EngineTold(int generation, EngineEvent event) implements AgentCommand {}

  /** The KV held for transfers at a shutdown drain was not all sent in time: shut down anyway. */
  private enum HeldKvExpired implements AgentCommand { INSTANCE }

  private final ActorContext<AgentCommand> context;
  private final String agentId;
  private final String device;
  private final String backendName;
  private final Supplier<Backend> backendFactory;
  private final int tensorParallel; // GPUs the backend spans
  private final io.decodefleet.agent.engine.tp.Parallelism parallelism; // what those GPUs split
  private final NodeHealth health;
  /** This node's /metrics: every report is counted there as it leaves. */
  private final AgentMetrics metrics;
  /** The model of the last LoadModel: the model_name of this agent's metrics. */
  private String model = "";
  private ActorRef<AgentReport> coordinator;
  private Engine engine;
  /** The spec of {@link #engine}, and its ModelLoaded once it loaded (null before): what a LoadModel keeps. */
  private ModelSpec engineSpec;
  private AgentReport.ModelLoaded resident;
  /** Counts LoadModel requests, so a late load failure of a replaced engine is told apart. */
  private int generation;
  private ActorRef<org.apache.pekko.Done> shutdownWaiter;
  private boolean draining;
  /** At a shutdown drain: sequences whose KV is held for a transfer and not yet sent. */
  private final java.util.Set<Long> heldForShutdown = new java.util.HashSet<>();
  /** The KV group's limit per transfer (from JoinKvGroup): how long a shutdown waits for held sends. */
  private long kvTimeoutMillis = 30_000;

  public static Behavior<AgentCommand> create(String agentId, String device, String backendName,
      Supplier<Backend> backendFactory) {
    return create(agentId, device, backendName, backendFactory, 1);
  }

  /** @param tensorParallel how many GPUs the backend spans (K for a tensor-parallel group) */
  public static Behavior<AgentCommand> create(String agentId, String device, String backendName,
      Supplier<Backend> backendFactory, int tensorParallel) {
    return create(agentId, device, backendName, backendFactory, tensorParallel,
        io.decodefleet.agent.engine.tp.Parallelism.TENSOR);
  }

  /** @param parallelism what a group of {@code tensorParallel} > 1 devices splits: heads and columns, or experts */
  public static Behavior<AgentCommand> create(String agentId, String device, String backendName,
      Supplier<Backend> backendFactory, int tensorParallel, io.decodefleet.agent.engine.tp.Parallelism parallelism) {
    return Behaviors.setup(ctx -> new GpuAgent(ctx, agentId, device, backendName, backendFactory, tensorParallel,
        parallelism));
  }

  private GpuAgent(ActorContext<AgentCommand> context, String agentId, String device, String backendName,
      Supplier<Backend> backendFactory, int tensorParallel, io.decodefleet.agent.engine.tp.Parallelism parallelism) {
    super(context);
    this.tensorParallel = tensorParallel;
    this.parallelism = parallelism;
    this.context = context;
    this.agentId = agentId;
    this.device = device;
    this.backendName = backendName;
    this.backendFactory = backendFactory;
    this.health = NodeHealth.get(context.getSystem());
    this.metrics = AgentMetrics.get(context.getSystem());
    health.set(agentId, NodeHealth.Phase.STARTING);
  }

  @Override
  public Receive<AgentCommand> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(RegistrationRefused.class, this::onRegistrationRefused)
        .onMessage(LoadModel.class, this::onLoadModel)
        .onMessage(StartSequences.class, this::onStartSequences)
        .onMessage(AbortSequences.class, this::onAbortSequences)
        .onMessage(AgentCommand.ProfileSteps.class, this::onProfileSteps)
        .onMessage(Drain.class, this::onDrain)
        .onMessage(CreateKvGroupId.class, this::onCreateKvGroupId)
        .onMessage(JoinKvGroup.class, this::onJoinKvGroup)
        .onMessage(AbortKvGroup.class, this::onAbortKvGroup)
        .onMessage(SendKv.class, this::onSendKv)
        .onMessage(ReceiveKv.class, this::onReceiveKv)
        .onMessage(DrainForShutdown.class, this::onDrainForShutdown)
        .onMessage(EngineTold.class, this::onEngineTold)
        .onMessage(HeldKvExpired.class, this::onHeldKvExpired)
        .onSignal(Terminated.class, this::onTerminated)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  /**
   * Makes {@code replyTo} this agent's coordinator: a different one than before takes over, and the
   * previous coordinator's sequences are aborted (they would run for nobody).
   */
  private void follow(ActorRef<AgentReport> replyTo) {
    if (replyTo.equals(coordinator)) return;
    if (coordinator != null) {
      context.unwatch(coordinator);
      abortAll("another coordinator (" + replyTo.path() + ") took over from " + coordinator.path());
    }
    coordinator = replyTo;
    context.watch(coordinator);
  }

  private Behavior<AgentCommand> onTerminated(Terminated msg) {
    if (msg.getRef().equals(coordinator)) {
      coordinator = null;
      abortAll("its coordinator (" + msg.getRef().path() + ") is gone");
    }
    return this;
  }

  private void abortAll(String why) {
    if (engine == null) return;
    context.getLog().warn("{}: aborting every sequence: {}", agentId, why);
    engine.abortAll();
  }

  private Behavior<AgentCommand> onRegister(Register msg) {
    follow(msg.replyTo());
    if (engine == null && !draining) health.set(agentId, NodeHealth.Phase.REGISTERED);
    String address = Cluster.get(context.getSystem()).selfMember().address().toString();
    coordinator.tell(new AgentReport.Registered(agentId, context.getSelf(), address, device, backendName,
        tensorParallel, parallelism));
    return this;
  }

  /** Its id is another live node's: the coordinator did not register it, and its node stops (the daemon exits). */
  private Behavior<AgentCommand> onRegistrationRefused(RegistrationRefused msg) {
    health.refused(agentId, msg.reason());
    return this;
  }

  private Behavior<AgentCommand> onLoadModel(LoadModel msg) {
    follow(msg.replyTo());
    if (draining) {
      coordinator.tell(new AgentReport.LoadFailed(agentId, "agent is shutting down"));
      return this;
    }
    if (msg.keepResident() && engine != null && msg.spec().equals(engineSpec)) {
      // Adopted as it is: answered now if loaded, else by the load in progress.
      if (resident != null) {
        metrics.reported(model, resident);
        coordinator.tell(resident);
      }
      return this;
    }
    if (engine != null) {
      engine.stop();
    }
    health.set(agentId, NodeHealth.Phase.LOADING);
    model = msg.spec().model();
    engineSpec = msg.spec();
    resident = null;
    ActorRef<AgentCommand> self = context.getSelf();
    int gen = ++generation;
    engine = new Engine(agentId, msg.spec(), backendFactory, event -> self.tell(new EngineTold(gen, event)));
    engine.start();
    return this;
  }

  private Behavior<AgentCommand> onAbortSequences(AbortSequences msg) {
    if (engine != null) engine.abort(msg.sequenceIds());
    return this;
  }

  private Behavior<AgentCommand> onProfileSteps(AgentCommand.ProfileSteps msg) {
    if (engine != null) engine.profileNextSteps(msg.steps());
    return this;
  }

  private Behavior<AgentCommand> onStartSequences(StartSequences msg) {
    if (draining) {
      // Arrived after the drain began: hand them straight back so the coordinator re-places them.
      tellCoordinator(new AgentReport.Drained(agentId, msg.sequences().stream().map(SequenceSpec::sequenceId).toList()));
      return this;
    }
    if (engine == null) {
      for (SequenceSpec s : msg.sequences()) {
        tellCoordinator(new AgentReport.SequenceFailed(agentId, s.sequenceId(), "no model loaded on " + agentId));
      }
      return this;
    }
    engine.submit(msg.sequences());
    return this;
  }

  private Behavior<AgentCommand> onDrain(Drain msg) {
    follow(msg.replyTo());
    if (engine == null) {
      coordinator.tell(new AgentReport.Drained(agentId, List.of()));
    } else {
      engine.drain();
    }
    return this;
  }

  private Behavior<AgentCommand> onCreateKvGroupId(CreateKvGroupId msg) {
    follow(msg.replyTo());
    if (engine == null) {
      coordinator.tell(new AgentReport.KvGroupFailed(agentId, "no model loaded on " + agentId));
    } else {
      engine.createKvGroupId();
    }
    return this;
  }

  private Behavior<AgentCommand> onJoinKvGroup(JoinKvGroup msg) {
    follow(msg.replyTo());
    kvTimeoutMillis = msg.timeoutMillis();
    KvGroupSpec spec;
    try {
      spec = new KvGroupSpec(msg.id(), msg.rank(), msg.nranks(), msg.peers(), KvTransferMode.parse(msg.transferMode()),
          java.time.Duration.ofMillis(msg.timeoutMillis()));
    } catch (IllegalArgumentException e) {
      coordinator.tell(new AgentReport.KvGroupFailed(agentId, e.getMessage()));
      return this;
    }
    if (engine == null) {
      coordinator.tell(new AgentReport.KvGroupFailed(agentId, "no model loaded on " + agentId));
    } else {
      engine.joinKvGroup(spec);
    }
    return this;
  }

  private Behavior<AgentCommand> onAbortKvGroup(AbortKvGroup msg) {
    if (engine != null) engine.abortKvGroup(msg.reason());
    return this;
  }

  private Behavior<AgentCommand> onSendKv(SendKv msg) {
    if (engine == null) {
      tellCoordinator(new AgentReport.KvTransferred(agentId, msg.sequenceId(), true, 0, Double.NaN,
          KvTransferOutcome.FAILED, "no model loaded on " + agentId));
    } else {
      engine.sendKv(msg.sequenceId(), msg.peerRank());
    }
    return this;
  }

  private Behavior<AgentCommand> onReceiveKv(ReceiveKv msg) {
    if (engine == null) {
      tellCoordinator(new AgentReport.KvTransferred(agentId, msg.sequenceId(), false, 0, Double.NaN,
          KvTransferOutcome.FAILED, "no model loaded on " + agentId));
    } else {
      engine.receiveKv(new IncomingKvTransfer(msg.sequenceId(), msg.promptTokens(), msg.outputTokens(), msg.maxTokens(),
          msg.numComputedTokens(), msg.peerRank(), msg.sampling()));
    }
    return this;
  }

  private Behavior<AgentCommand> onDrainForShutdown(DrainForShutdown msg) {
    draining = true;
    health.set(agentId, NodeHealth.Phase.DRAINING);
    if (engine == null) {
      msg.whenDone().tell(org.apache.pekko.Done.getInstance());
    } else {
      shutdownWaiter = msg.whenDone();
      engine.drain();
    }
    return this;
  }

  private Behavior<AgentCommand> onEngineTold(EngineTold msg) {
    EngineEvent event = msg.event();
    if (event instanceof EngineEvent.Loaded) health.set(agentId, NodeHealth.Phase.LOADED);
    // Only the current engine's load failure detaches it: a replaced engine's late failure must not.
    if (event instanceof EngineEvent.LoadFailed && msg.generation() == generation) {
      engine = null;
      engineSpec = null;
      health.set(agentId, NodeHealth.Phase.FAILED);
    }
    if (event instanceof EngineEvent.AllAborted a) {
      context.getLog().warn("{}: aborted {} sequences; {} of {} KV blocks free", agentId, a.sequences(),
          a.freeKvBlocks(), resident == null ? "?" : resident.kvBlocks());
    }
    for (AgentReport report : reportsOf(event)) {
      if (report instanceof AgentReport.ModelLoaded m && msg.generation() == generation) resident = m;
      metrics.reported(model, report);
      tellCoordinator(report);
    }
    if (shutdownWaiter == null) return this;
    if (event instanceof EngineEvent.Drained d) {
      // The held KV leaves through this node: it stays up until the sends are over.
      d.heldKv().forEach(h -> heldForShutdown.add(h.sequenceId()));
      if (heldForShutdown.isEmpty()) {
        shutDown();
      } else {
        context.scheduleOnce(java.time.Duration.ofMillis(kvTimeoutMillis).plusSeconds(5), context.getSelf(),
            HeldKvExpired.INSTANCE);
      }
    } else if (event instanceof EngineEvent.KvTransferEnded t && t.sender() && heldForShutdown.remove(t.sequenceId())
        && heldForShutdown.isEmpty()) {
      shutDown();
    }
    return this;
  }

  /** The wire reports of one engine event: the one place where the engine's words become the protocol's. */
  private List<AgentReport> reportsOf(EngineEvent event) {
    if (event instanceof EngineEvent.Loaded e) {
      return List.of(new AgentReport.ModelLoaded(agentId, e.kvBlocks(), e.blockSize(), e.maxNumSeqs(),
          e.maxModelLen(), e.loadMillis(), e.kvTransferUnsupported(), e.process(), e.loadReport()));
    } else if (event instanceof EngineEvent.LoadFailed e) {
      return List.of(new AgentReport.LoadFailed(agentId, e.reason()));
    } else if (event instanceof EngineEvent.AllAborted) {
      return List.of(); // the aborted sequences' coordinator has forgotten them (or is gone)
    } else if (event instanceof EngineEvent.Stepped e) {
      return List.of(new AgentReport.StepReport(agentId, e.step(), e.tokens(), e.finished(), e.freeKvBlocks(),
          e.running(), e.waiting(), e.scheduledTokens(), e.stepNanos(), e.preempted(), e.numSequences(), e.path(),
          e.hostNanos(), e.gpuMicros(), e.idleGapMicros(), e.profile(), e.expertLoad(), e.allReduces()));
    } else if (event instanceof EngineEvent.PrefixCacheChanged e) {
      return List.of(new AgentReport.PrefixCacheReport(agentId, e.added(), e.evicted(), e.queriedTokens(),
          e.hitTokens(), e.deferredAdmissions()));
    } else if (event instanceof EngineEvent.SequenceRefused e) {
      return List.of(new AgentReport.SequenceFailed(agentId, e.sequenceId(), e.reason()));
    } else if (event instanceof EngineEvent.Drained e) {
      return List.of(new AgentReport.Drained(agentId, e.unfinishedSequenceIds(), e.heldKv()));
    } else if (event instanceof EngineEvent.Crashed e) {
      return e.unfinishedSequenceIds().stream().<AgentReport>map(id ->
          new AgentReport.SequenceFailed(agentId, id, "engine crashed: " + e.reason())).toList();
    } else if (event instanceof EngineEvent.KvGroupIdCreated e) {
      return List.of(new AgentReport.KvGroupId(agentId, e.id()));
    } else if (event instanceof EngineEvent.KvGroupJoined e) {
      return List.of(new AgentReport.KvGroupJoined(agentId, e.rank(), e.detail()));
    } else if (event instanceof EngineEvent.KvGroupFailed e) {
      return List.of(new AgentReport.KvGroupFailed(agentId, e.reason()));
    } else if (event instanceof EngineEvent.KvReady e) {
      return List.of(new AgentReport.KvReady(agentId, e.sequenceId(), e.numComputedTokens()));
    } else if (event instanceof EngineEvent.KvTransferEnded e) {
      return List.of(new AgentReport.KvTransferred(agentId, e.sequenceId(), e.sender(), e.bytes(), e.deviceMillis(),
          e.outcome(), e.detail()));
    }
    throw new IllegalArgumentException("no report for engine event " + event);
  }

  private Behavior<AgentCommand> onHeldKvExpired(HeldKvExpired msg) {
    if (shutdownWaiter != null && !heldForShutdown.isEmpty()) {
      context.getLog().warn("{}: shutting down with the KV of {} sequences unsent (the coordinator re-places them)",
          agentId, heldForShutdown.size());
      heldForShutdown.clear();
      shutDown();
    }
    return this;
  }

  private void shutDown() {
    shutdownWaiter.tell(org.apache.pekko.Done.getInstance());
    shutdownWaiter = null;
  }

  private void tellCoordinator(AgentReport report) {
    if (coordinator == null) {
      context.getLog().warn("{}: dropping {} because no coordinator registered", agentId, report.getClass().getSimpleName());
    } else {
      coordinator.tell(report);
    }
  }

  private Behavior<AgentCommand> onPostStop() {
    if (engine != null) engine.stop();
    return this;
  }
}
