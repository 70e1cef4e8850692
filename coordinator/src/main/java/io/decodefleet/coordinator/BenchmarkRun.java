package io.decodefleet.coordinator;

import io.decodefleet.agent.GpuAgent;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.agent.protocol.SequenceSpec;
import io.decodefleet.coordinator.metrics.MetricsRecorder;
import io.decodefleet.coordinator.placement.AgentLoad;
import io.decodefleet.coordinator.placement.PlacementPolicy;
import io.decodefleet.coordinator.workload.RequestSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One benchmark run on a fixed set of agents: load the model everywhere, release the requests at
 * their arrival times, place each on an agent, timestamp every token as its step report arrives (the
 * coordinator's clock is the one clock of every request-level metric), and reply with the outcome
 * once no request is outstanding.
 */
public final class BenchmarkRun extends AbstractBehavior<BenchmarkRun.Command> {

  public interface Command {}

  /** A report from one of this run's agents, forwarded by the Coordinator. */
  public record Reported(AgentReport report) implements Command {}

  private enum ReleaseDue implements Command { INSTANCE }

  private enum LoadTimedOut implements Command { INSTANCE }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final BenchmarkSpec spec;
  private final List<AgentInfo> agents;
  private final ActorRef<RunOutcome> replyTo;
  private final PlacementPolicy placement;
  private final MetricsRecorder recorder = new MetricsRecorder();
  private final Map<String, Integer> indexOf = new HashMap<>();
  private final AgentState[] state;
  private final Map<Long, RequestSpec> byId = new HashMap<>();
  private final Map<Long, Integer> placedOn = new HashMap<>();
  private final Map<Long, int[]> outputTokens = new HashMap<>();
  private final EngineTotals totals = new EngineTotals();
  private int loaded;
  private int nextRelease;
  private long startNanos;

  private static final class AgentState {
    int kvBlocks;
    int blockSize;
    int maxModelLen;
    long reservedBlocks;
    int inFlight;
    long loadMillis;
  }

  public static Behavior<Command> create(BenchmarkSpec spec, List<AgentInfo> agents, ActorRef<AgentReport> reportTo,
      ActorRef<RunOutcome> replyTo) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new BenchmarkRun(ctx, timers, spec, agents, reportTo,
        replyTo)));
  }

  private BenchmarkRun(ActorContext<Command> context, TimerScheduler<Command> timers, BenchmarkSpec spec,
      List<AgentInfo> agents, ActorRef<AgentReport> reportTo, ActorRef<RunOutcome> replyTo) {
    super(context);
    this.context = context;
    this.timers = timers;
    this.spec = spec;
    this.agents = List.copyOf(agents);
    this.replyTo = replyTo;
    this.placement = PlacementPolicy.named(spec.placement());
    this.state = new AgentState[agents.size()];
    for (int i = 0; i < agents.size(); i++) {
      indexOf.put(agents.get(i).agentId(), i);
      state[i] = new AgentState();
    }
    for (RequestSpec r : spec.requests()) byId.put(r.requestId(), r);
    for (AgentInfo agent : agents) agent.ref().tell(new GpuAgent.LoadModel(spec.model(), reportTo));
    timers.startSingleTimer(LoadTimedOut.INSTANCE, spec.agentTimeout());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Reported.class, this::onReported)
        .onMessage(ReleaseDue.class, msg -> onReleaseDue())
        .onMessage(LoadTimedOut.class, msg -> onLoadTimedOut())
        .build();
  }

  private Behavior<Command> onReported(Reported msg) {
    AgentReport report = msg.report();
    if (report instanceof AgentReport.ModelLoaded m) return onModelLoaded(m);
    if (report instanceof AgentReport.LoadFailed m) {
      return finish("agent " + m.agentId() + " could not load model " + spec.model().model() + ": " + m.reason());
    }
    if (report instanceof AgentReport.StepReport m) return onStepReport(m);
    if (report instanceof AgentReport.SequenceFailed m) return onSequenceFailed(m);
    return this;
  }

  private Behavior<Command> onModelLoaded(AgentReport.ModelLoaded m) {
    Integer i = indexOf.get(m.agentId());
    if (i == null) return this;
    AgentState s = state[i];
    s.kvBlocks = m.kvBlocks();
    s.blockSize = m.blockSize();
    s.maxModelLen = m.maxModelLen();
    s.loadMillis = m.loadMillis();
    if (++loaded == agents.size()) {
      timers.cancel(LoadTimedOut.INSTANCE);
      startNanos = System.nanoTime();
      return onReleaseDue();
    }
    return this;
  }

  private Behavior<Command> onLoadTimedOut() {
    return finish("only " + loaded + " of " + agents.size() + " agents loaded model " + spec.model().model()
        + " within " + spec.agentTimeout().toSeconds() + " s");
  }

  private Behavior<Command> onReleaseDue() {
    long now = System.nanoTime();
    List<RequestSpec> requests = spec.requests();
    Map<Integer, List<SequenceSpec>> batches = new LinkedHashMap<>();
    while (nextRelease < requests.size() && requests.get(nextRelease).arrivalNanos() <= now - startNanos) {
      RequestSpec r = requests.get(nextRelease++);
      recorder.requestReleased(r.requestId(), r.promptTokens().length, r.maxTokens(), now);
      place(r, now, batches);
    }
    batches.forEach((i, seqs) -> agents.get(i).ref().tell(new GpuAgent.StartSequences(seqs)));
    if (nextRelease < requests.size()) {
      long delay = requests.get(nextRelease).arrivalNanos() - (System.nanoTime() - startNanos);
      timers.startSingleTimer(ReleaseDue.INSTANCE, Duration.ofNanos(Math.max(0, delay)));
    }
    return finishIfDone();
  }

  private void place(RequestSpec r, long now, Map<Integer, List<SequenceSpec>> batches) {
    int tokens = r.promptTokens().length + r.maxTokens();
    List<AgentLoad> loads = new ArrayList<>();
    List<Integer> candidates = new ArrayList<>();
    for (int i = 0; i < agents.size(); i++) {
      AgentState s = state[i];
      if (tokens <= s.maxModelLen && blocksFor(tokens, s) <= s.kvBlocks) {
        loads.add(new AgentLoad(agents.get(i).agentId(), i, s.kvBlocks, s.blockSize, s.reservedBlocks, s.inFlight));
        candidates.add(i);
      }
    }
    if (candidates.isEmpty()) {
      recorder.requestFailed(r.requestId(), "prompt " + r.promptTokens().length + " + output " + r.maxTokens()
          + " tokens exceeds the KV capacity or model length of every agent", now);
      return;
    }
    int i = candidates.get(placement.choose(loads, tokens));
    AgentState s = state[i];
    s.reservedBlocks += blocksFor(tokens, s);
    s.inFlight++;
    placedOn.put(r.requestId(), i);
    batches.computeIfAbsent(i, k -> new ArrayList<>())
        .add(new SequenceSpec(r.requestId(), r.promptTokens(), r.maxTokens()));
  }

  private static long blocksFor(int tokens, AgentState s) {
    return (tokens + s.blockSize - 1) / s.blockSize;
  }

  private Behavior<Command> onStepReport(AgentReport.StepReport m) {
    long now = System.nanoTime();
    totals.add(m);
    for (AgentReport.SequenceTokens t : m.tokens()) {
      if (!placedOn.containsKey(t.sequenceId())) continue;
      recorder.tokensArrived(t.sequenceId(), m.agentId(), t.tokens().length, now);
      outputTokens.merge(t.sequenceId(), t.tokens(), BenchmarkRun::concat);
    }
    for (AgentReport.SequenceFinished f : m.finished()) {
      if (!placedOn.containsKey(f.sequenceId())) continue;
      totals.finished(f);
      recorder.requestFinished(f.sequenceId(), now);
      release(f.sequenceId());
    }
    return finishIfDone();
  }

  private Behavior<Command> onSequenceFailed(AgentReport.SequenceFailed m) {
    if (!placedOn.containsKey(m.sequenceId())) return this;
    recorder.requestFailed(m.sequenceId(), m.agentId() + ": " + m.reason(), System.nanoTime());
    release(m.sequenceId());
    return finishIfDone();
  }

  /** The sequence no longer holds KV on its agent. */
  private void release(long sequenceId) {
    Integer i = placedOn.remove(sequenceId);
    if (i == null) return;
    RequestSpec r = byId.get(sequenceId);
    AgentState s = state[i];
    s.reservedBlocks -= blocksFor(r.promptTokens().length + r.maxTokens(), s);
    s.inFlight--;
  }

  private Behavior<Command> finishIfDone() {
    if (nextRelease < spec.requests().size() || recorder.outstanding() > 0) return this;
    long end = System.nanoTime();
    List<Map<String, Object>> agentLines = new ArrayList<>();
    for (int i = 0; i < agents.size(); i++) {
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("agent_id", agents.get(i).agentId());
      line.put("device", agents.get(i).device());
      line.put("backend", agents.get(i).backend());
      line.put("node", agents.get(i).nodeAddress());
      line.put("kv_blocks", state[i].kvBlocks);
      line.put("block_size", state[i].blockSize);
      line.put("load_ms", state[i].loadMillis);
      agentLines.add(line);
    }
    replyTo.tell(new RunOutcome(null, recorder.summarize(startNanos, end), recorder.requests(), Map.copyOf(outputTokens),
        agentLines, totals.engineSummary(), spec.model().verifyFraction() > 0 ? totals.verificationSummary() : null));
    return Behaviors.stopped();
  }

  private Behavior<Command> finish(String error) {
    replyTo.tell(RunOutcome.failed(error));
    return Behaviors.stopped();
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
