package io.decodefleet.coordinator;

import io.decodefleet.agent.GpuAgent;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.metrics.AgentOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
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

/**
 * The cluster singleton of a DecodeFleet cluster: finds agents through the Receptionist, registers
 * them (so their reports come here), and runs one benchmark at a time on the first world-size agents
 * (ordered by id), forwarding their reports to the run.
 */
public final class Coordinator extends AbstractBehavior<Coordinator.Command> {

  public interface Command {}

  /** Run a benchmark as soon as {@code spec.worldSize()} agents are registered. */
  public record RunBenchmark(BenchmarkSpec spec, ActorRef<RunOutcome> replyTo) implements Command {}

  /** Replies with the registered agents. */
  public record GetAgents(ActorRef<List<AgentInfo>> replyTo) implements Command {}

  private record AgentsListed(Receptionist.Listing listing) implements Command {}

  private record AgentReported(AgentReport report) implements Command {}

  private record WaitTimedOut(RunBenchmark request) implements Command {}

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<AgentReport> reportAdapter;
  private final Map<ActorRef<GpuAgent.Command>, AgentInfo> registered = new LinkedHashMap<>();
  private Set<ActorRef<GpuAgent.Command>> listed = new HashSet<>();
  private RunBenchmark waiting;
  private ActorRef<BenchmarkRun.Command> activeRun;
  private Set<String> activeAgents = Set.of();

  public static Behavior<Command> create() {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Coordinator(ctx, timers)));
  }

  private Coordinator(ActorContext<Command> context, TimerScheduler<Command> timers) {
    super(context);
    this.context = context;
    this.timers = timers;
    this.reportAdapter = context.messageAdapter(AgentReport.class, AgentReported::new);
    ActorRef<Receptionist.Listing> listingAdapter = context.messageAdapter(Receptionist.Listing.class, AgentsListed::new);
    context.getSystem().receptionist().tell(Receptionist.subscribe(GpuAgent.SERVICE_KEY, listingAdapter));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(RunBenchmark.class, this::onRunBenchmark)
        .onMessage(GetAgents.class, this::onGetAgents)
        .onMessage(AgentsListed.class, this::onAgentsListed)
        .onMessage(AgentReported.class, this::onAgentReported)
        .onMessage(WaitTimedOut.class, this::onWaitTimedOut)
        .onSignal(Terminated.class, this::onRunTerminated)
        .build();
  }

  private Behavior<Command> onRunBenchmark(RunBenchmark msg) {
    if (activeRun != null || waiting != null) {
      msg.replyTo().tell(RunOutcome.failed("a benchmark is already running on this cluster"));
      return this;
    }
    if (msg.spec().worldSize() < 1) {
      msg.replyTo().tell(RunOutcome.failed("world size must be >= 1, got " + msg.spec().worldSize()));
      return this;
    }
    waiting = msg;
    timers.startSingleTimer(msg, new WaitTimedOut(msg), msg.spec().agentTimeout());
    return startIfReady();
  }

  private Behavior<Command> onGetAgents(GetAgents msg) {
    msg.replyTo().tell(sortedAgents());
    return this;
  }

  private Behavior<Command> onAgentsListed(AgentsListed msg) {
    Set<ActorRef<GpuAgent.Command>> now = msg.listing().getServiceInstances(GpuAgent.SERVICE_KEY);
    for (ActorRef<GpuAgent.Command> agent : now) {
      if (!listed.contains(agent)) agent.tell(new GpuAgent.Register(reportAdapter));
    }
    registered.keySet().retainAll(now);
    listed = new HashSet<>(now);
    return this;
  }

  private Behavior<Command> onAgentReported(AgentReported msg) {
    AgentReport report = msg.report();
    if (report instanceof AgentReport.Registered r) {
      if (listed.contains(r.agent())) {
        registered.put(r.agent(), new AgentInfo(r.agentId(), r.agent(), r.nodeAddress(), r.device(), r.backend()));
        return startIfReady();
      }
      return this;
    }
    String agentId = agentIdOf(report);
    if (activeRun != null && agentId != null && activeAgents.contains(agentId)) {
      activeRun.tell(new BenchmarkRun.Reported(report));
    }
    return this;
  }

  private static String agentIdOf(AgentReport report) {
    if (report instanceof AgentReport.ModelLoaded m) return m.agentId();
    if (report instanceof AgentReport.LoadFailed m) return m.agentId();
    if (report instanceof AgentReport.StepReport m) return m.agentId();
    if (report instanceof AgentReport.SequenceFailed m) return m.agentId();
    if (report instanceof AgentReport.Drained m) return m.agentId();
    return null;
  }

  private Behavior<Command> onWaitTimedOut(WaitTimedOut msg) {
    if (waiting == msg.request()) {
      waiting = null;
      msg.request().replyTo().tell(RunOutcome.failed("only " + registered.size() + " of "
          + msg.request().spec().worldSize() + " agents joined within " + msg.request().spec().agentTimeout().toSeconds()
          + " s"));
    }
    return this;
  }

  private Behavior<Command> startIfReady() {
    if (waiting == null || registered.size() < waiting.spec().worldSize()) return this;
    RunBenchmark request = waiting;
    waiting = null;
    timers.cancel(request);
    List<AgentInfo> agents = sortedAgents().subList(0, request.spec().worldSize());
    activeAgents = new HashSet<>(agents.stream().map(AgentInfo::agentId).toList());
    activeRun = context.spawnAnonymous(BenchmarkRun.create(request.spec(), agents, reportAdapter, request.replyTo()));
    context.watch(activeRun);
    return this;
  }

  private List<AgentInfo> sortedAgents() {
    List<AgentInfo> agents = new ArrayList<>(registered.values());
    agents.sort(Comparator.comparing(AgentInfo::agentId, AgentOrder.INSTANCE));
    return agents;
  }

  private Behavior<Command> onRunTerminated(Terminated msg) {
    if (msg.getRef().equals(activeRun)) {
      activeRun = null;
      activeAgents = Set.of();
    }
    return this;
  }

  static Duration defaultAgentTimeout() {
    return Duration.ofSeconds(60);
  }
}
