package io.decodefleet.agent;

import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.Engine;
import io.decodefleet.agent.engine.KvArrival;
import io.decodefleet.agent.engine.KvGroupSpec;
import io.decodefleet.agent.engine.KvTransferMode;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.agent.protocol.ModelSpec;
import io.decodefleet.agent.protocol.ProtocolMessage;
import io.decodefleet.agent.protocol.SequenceSpec;
import java.util.List;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * One agent per device: owns the device's decode engine (which runs on its own thread) and speaks
 * the cluster protocol for it. Reports go to the address given by the last {@link Register}.
 */
public final class GpuAgent extends AbstractBehavior<GpuAgent.Command> {

  public interface Command {}

  /** Every agent of the cluster, as registered with the Receptionist. */
  public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "decodefleet-gpu-agent");

  /** Announce yourself to {@code replyTo} and send it every report from now on. */
  public record Register(ActorRef<AgentReport> replyTo) implements Command, ProtocolMessage {}

  /** Load the model; the answer is ModelLoaded or LoadFailed. */
  public record LoadModel(ModelSpec spec, ActorRef<AgentReport> replyTo) implements Command, ProtocolMessage {}

  public record StartSequences(List<SequenceSpec> sequences) implements Command, ProtocolMessage {}

  /** Stop taking work and hand back what is unfinished; the answer is Drained. */
  public record Drain(ActorRef<AgentReport> replyTo) implements Command, ProtocolMessage {}

  /**
   * Local only (SIGTERM on the daemon): stop taking work, hand every unfinished sequence back to the
   * coordinator (which re-places it, or moves its KV to another agent), then tell {@code whenDone}:
   * once the sends of the KV held for moves are over, or after the KV group's timeout.
   */
  public record DrainForShutdown(ActorRef<org.apache.pekko.Done> whenDone) implements Command {}

  /** Make a unique id for a new KV-transfer group; the answer is KvGroupId or KvGroupFailed. */
  public record CreateKvGroupId(ActorRef<AgentReport> replyTo) implements Command, ProtocolMessage {}

  /**
   * Join the KV-transfer group as {@code rank} of {@code nranks}: the engine thread creates the
   * communicator and checks a first exchange with each of {@code peers}. The answer is
   * KvGroupJoined or KvGroupFailed.
   *
   * @param id the group's unique id, byte[128]
   * @param transferMode "eager" or "graph"
   * @param timeoutMillis limit for joining and for each transfer
   */
  public record JoinKvGroup(byte[] id, int rank, int nranks, List<Integer> peers, String transferMode,
      long timeoutMillis, ActorRef<AgentReport> replyTo) implements Command, ProtocolMessage {
    @Override
    public boolean equals(Object o) {
      return o instanceof JoinKvGroup j && java.util.Arrays.equals(j.id, id) && j.rank == rank && j.nranks == nranks
          && j.peers.equals(peers) && j.transferMode.equals(transferMode) && j.timeoutMillis == timeoutMillis
          && j.replyTo.equals(replyTo);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.hashCode(id) * 31 + rank;
    }

    @Override
    public String toString() {
      return "JoinKvGroup[rank " + rank + " of " + nranks + ", peers " + peers + ", " + transferMode + "]";
    }
  }

  /** Abort the KV-transfer group now: pending transfers fail, none start. */
  public record AbortKvGroup(String reason) implements Command, ProtocolMessage {}

  /** Send sequence {@code sequenceId}'s KV to group rank {@code peerRank}; a negative rank drops it. */
  public record SendKv(long sequenceId, int peerRank) implements Command, ProtocolMessage {}

  /**
   * Receive a sequence's KV from group rank {@code peerRank} and continue decoding it.
   *
   * @param outputTokens tokens generated so far (already streamed to the submitter)
   * @param maxTokens output tokens in all, {@code outputTokens} included
   * @param numComputedTokens positions whose K/V arrive
   */
  public record ReceiveKv(long sequenceId, int[] promptTokens, int[] outputTokens, int maxTokens,
      int numComputedTokens, int peerRank) implements Command, ProtocolMessage {
    @Override
    public boolean equals(Object o) {
      return o instanceof ReceiveKv r && r.sequenceId == sequenceId && java.util.Arrays.equals(r.promptTokens,
          promptTokens) && java.util.Arrays.equals(r.outputTokens, outputTokens) && r.maxTokens == maxTokens
          && r.numComputedTokens == numComputedTokens && r.peerRank == peerRank;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(sequenceId) * 31 + peerRank;
    }

    @Override
    public String toString() {
      return "ReceiveKv[" + sequenceId + ", prompt " + promptTokens.length + ", outputs " + outputTokens.length
          + ", computed " + numComputedTokens + ", from rank " + peerRank + "]";
    }
  }

  private record EngineEvent(AgentReport report) implements Command {}

  /** The KV held for moves at a shutdown drain was not all sent in time: shut down anyway. */
  private enum HeldKvExpired implements Command { INSTANCE }

  /** @param generation the LoadModel request whose engine failed (see the generation field) */
  private record EngineLoadFailed(int generation, String reason) implements Command {}

  private final ActorContext<Command> context;
  private final String agentId;
  private final String device;
  private final String backendName;
  private final Supplier<Backend> backendFactory;
  private final int tensorParallel; // GPUs the backend spans
  private final NodeHealth health;
  private ActorRef<AgentReport> coordinator;
  private Engine engine;
  /** Counts LoadModel requests, so a late load failure of a replaced engine is told apart. */
  private int generation;
  private ActorRef<org.apache.pekko.Done> shutdownWaiter;
  private boolean draining;
  /** At a shutdown drain: sequences whose KV is held for a move and not yet sent. */
  private final java.util.Set<Long> heldForShutdown = new java.util.HashSet<>();
  /** The KV group's limit per transfer (from JoinKvGroup): how long a shutdown waits for held sends. */
  private long kvTimeoutMillis = 30_000;

  public static Behavior<Command> create(String agentId, String device, String backendName,
      Supplier<Backend> backendFactory) {
    return create(agentId, device, backendName, backendFactory, 1);
  }

  /** @param tensorParallel how many GPUs the backend spans (K for a tensor-parallel group) */
  public static Behavior<Command> create(String agentId, String device, String backendName,
      Supplier<Backend> backendFactory, int tensorParallel) {
    return Behaviors.setup(ctx -> new GpuAgent(ctx, agentId, device, backendName, backendFactory, tensorParallel));
  }

  private GpuAgent(ActorContext<Command> context, String agentId, String device, String backendName,
      Supplier<Backend> backendFactory, int tensorParallel) {
    super(context);
    this.tensorParallel = tensorParallel;
    this.context = context;
    this.agentId = agentId;
    this.device = device;
    this.backendName = backendName;
    this.backendFactory = backendFactory;
    this.health = NodeHealth.get(context.getSystem());
    health.set(agentId, NodeHealth.Phase.STARTING);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(LoadModel.class, this::onLoadModel)
        .onMessage(StartSequences.class, this::onStartSequences)
        .onMessage(Drain.class, this::onDrain)
        .onMessage(CreateKvGroupId.class, this::onCreateKvGroupId)
        .onMessage(JoinKvGroup.class, this::onJoinKvGroup)
        .onMessage(AbortKvGroup.class, this::onAbortKvGroup)
        .onMessage(SendKv.class, this::onSendKv)
        .onMessage(ReceiveKv.class, this::onReceiveKv)
        .onMessage(DrainForShutdown.class, this::onDrainForShutdown)
        .onMessage(EngineEvent.class, this::onEngineEvent)
        .onMessage(EngineLoadFailed.class, this::onEngineLoadFailed)
        .onMessage(HeldKvExpired.class, this::onHeldKvExpired)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onRegister(Register msg) {
    coordinator = msg.replyTo();
    if (engine == null && !draining) health.set(agentId, NodeHealth.Phase.REGISTERED);
    String address = Cluster.get(context.getSystem()).selfMember().address().toString();
    coordinator.tell(new AgentReport.Registered(agentId, context.getSelf(), address, device, backendName,
        tensorParallel));
    return this;
  }

  private Behavior<Command> onLoadModel(LoadModel msg) {
    coordinator = msg.replyTo();
    if (draining) {
      coordinator.tell(new AgentReport.LoadFailed(agentId, "agent is shutting down"));
      return this;
    }
    if (engine != null) {
      engine.stop();
    }
    health.set(agentId, NodeHealth.Phase.LOADING);
    ActorRef<Command> self = context.getSelf();
    int gen = ++generation;
    engine = new Engine(agentId, msg.spec(), backendFactory, new Engine.Listener() {
      @Override
      public void loaded(AgentReport.ModelLoaded loaded) {
        self.tell(new EngineEvent(loaded));
      }

      @Override
      public void loadFailed(String reason) {
        self.tell(new EngineLoadFailed(gen, reason));
      }

      @Override
      public void stepped(AgentReport.StepReport report) {
        self.tell(new EngineEvent(report));
      }

      @Override
      public void rejected(long sequenceId, String reason) {
        self.tell(new EngineEvent(new AgentReport.SequenceFailed(agentId, sequenceId, reason)));
      }

      @Override
      public void drained(List<Long> unfinished) {
        drained(unfinished, List.of());
      }

      @Override
      public void drained(List<Long> unfinished, List<AgentReport.HeldKv> heldKv) {
        self.tell(new EngineEvent(new AgentReport.Drained(agentId, unfinished, heldKv)));
      }

      @Override
      public void kvReported(AgentReport report) {
        self.tell(new EngineEvent(report));
      }

      @Override
      public void crashed(String reason, List<Long> unfinished) {
        for (long id : unfinished) {
          self.tell(new EngineEvent(new AgentReport.SequenceFailed(agentId, id, "engine crashed: " + reason)));
        }
      }
    });
    engine.start();
    return this;
  }

  private Behavior<Command> onStartSequences(StartSequences msg) {
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

  private Behavior<Command> onDrain(Drain msg) {
    coordinator = msg.replyTo();
    if (engine == null) {
      coordinator.tell(new AgentReport.Drained(agentId, List.of()));
    } else {
      engine.drain();
    }
    return this;
  }

  private Behavior<Command> onCreateKvGroupId(CreateKvGroupId msg) {
    coordinator = msg.replyTo();
    if (engine == null) {
      coordinator.tell(new AgentReport.KvGroupFailed(agentId, "no model loaded on " + agentId));
    } else {
      engine.createKvGroupId();
    }
    return this;
  }

  private Behavior<Command> onJoinKvGroup(JoinKvGroup msg) {
    coordinator = msg.replyTo();
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

  private Behavior<Command> onAbortKvGroup(AbortKvGroup msg) {
    if (engine != null) engine.abortKvGroup(msg.reason());
    return this;
  }

  private Behavior<Command> onSendKv(SendKv msg) {
    if (engine == null) {
      tellCoordinator(new AgentReport.KvTransferred(agentId, msg.sequenceId(), true, 0, Double.NaN,
          AgentReport.KvTransferred.Outcome.FAILED, "no model loaded on " + agentId));
    } else {
      engine.sendKv(msg.sequenceId(), msg.peerRank());
    }
    return this;
  }

  private Behavior<Command> onReceiveKv(ReceiveKv msg) {
    if (engine == null) {
      tellCoordinator(new AgentReport.KvTransferred(agentId, msg.sequenceId(), false, 0, Double.NaN,
          AgentReport.KvTransferred.Outcome.FAILED, "no model loaded on " + agentId));
    } else {
      engine.receiveKv(new KvArrival(msg.sequenceId(), msg.promptTokens(), msg.outputTokens(), msg.maxTokens(),
          msg.numComputedTokens(), msg.peerRank()));
    }
    return this;
  }

  private Behavior<Command> onDrainForShutdown(DrainForShutdown msg) {
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

  private Behavior<Command> onEngineEvent(EngineEvent msg) {
    AgentReport report = msg.report();
    if (report instanceof AgentReport.ModelLoaded) health.set(agentId, NodeHealth.Phase.LOADED);
    tellCoordinator(report);
    if (shutdownWaiter == null) return this;
    if (report instanceof AgentReport.Drained d) {
      // The held KV leaves through this node: it stays up until the sends are over.
      d.heldKv().forEach(h -> heldForShutdown.add(h.sequenceId()));
      if (heldForShutdown.isEmpty()) {
        shutDown();
      } else {
        context.scheduleOnce(java.time.Duration.ofMillis(kvTimeoutMillis).plusSeconds(5), context.getSelf(),
            HeldKvExpired.INSTANCE);
      }
    } else if (report instanceof AgentReport.KvTransferred t && t.sender() && heldForShutdown.remove(t.sequenceId())
        && heldForShutdown.isEmpty()) {
      shutDown();
    }
    return this;
  }

  private Behavior<Command> onHeldKvExpired(HeldKvExpired msg) {
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

  private Behavior<Command> onEngineLoadFailed(EngineLoadFailed msg) {
    // Only the current engine's failure detaches it: a replaced engine's late failure must not.
    if (msg.generation() == generation) {
      engine = null;
      health.set(agentId, NodeHealth.Phase.FAILED);
    }
    tellCoordinator(new AgentReport.LoadFailed(agentId, msg.reason()));
    return this;
  }

  private void tellCoordinator(AgentReport report) {
    if (coordinator == null) {
      context.getLog().warn("{}: dropping {} because no coordinator registered", agentId, report.getClass().getSimpleName());
    } else {
      coordinator.tell(report);
    }
  }

  private Behavior<Command> onPostStop() {
    if (engine != null) engine.stop();
    return this;
  }
}
