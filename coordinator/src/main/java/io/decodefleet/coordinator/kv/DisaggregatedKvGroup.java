package io.decodefleet.coordinator.kv;

import io.decodefleet.agent.engine.kv.KvTransferOutcome;
import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.fleet.FleetAgent;
import io.decodefleet.coordinator.fleet.InFlightSequence;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.fleet.PrefillStage;
import io.decodefleet.coordinator.placement.PlacementPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The coordinator's side of the disaggregated layout: P prefill agents, D decode agents.
 *
 * <ul>
 *   <li>Group: once every agent loaded the model, agent 0 makes a unique id; every agent joins
 *       as rank = its index in the fleet, connecting to the other role's agents. The fleet is
 *       ready when all joined.
 *   <li>Placement: a new sequence goes to a prefill agent (the run's placement policy among
 *       them), prefill-only. Its KvReady picks the decode agent with the most projected free KV
 *       blocks; SendKv and ReceiveKv go out together, so each pair's sends and receives are
 *       issued in the same order. The prefill agent's reservation lasts until its send is over.
 *   <li>Failure: a transfer that fails, an agent that leaves or crashes, breaks the group: every
 *       member aborts it (nothing waits on a dead peer), pending hand-offs are re-placed with
 *       their tokens so far, and from then on the fleet places data-parallel.
 *   <li>Drains: a drained decode agent's decoding sequences move to the other decode agents
 *       through this group ({@link KvDrainTransfers}, which logs them here).
 * </ul>
 *
 * Owned by the {@code Coordinator} and called on its actor thread only.
 */
public final class DisaggregatedKvGroup implements KvGroup, PrefillStage {

  /**
   * What this needs from the coordinator.
   *
   * @param groupReady the group formed: the fleet is ready
   * @param groupFailed the group could not form: the load fails with this reason
   * @param sequences the unfinished sequence of a global id, or null
   * @param replace takes a sequence off its agent and places it anew (re-prefilled with its
   *     tokens so far), for the given cause
   */
  public record Host(Runnable groupReady, Consumer<String> groupFailed, Function<Long, InFlightSequence> sequences,
      BiConsumer<InFlightSequence, String> replace, Consumer<String> warn) {}

  private final ParallelLayout.Disaggregated layout;
  private final List<FleetAgent> agents;
  private final ActorRef<AgentReport> reportTo;
  private final Duration timeout;
  private final Host host;
  private final DisaggregatedPlacement roles;
  private final Set<String> joined = new LinkedHashSet<>();
  private final Map<Long, KvTransfer> handoffs = new HashMap<>(); // from KvReady to both sides' reports
  private final KvTransferLog log = new KvTransferLog();
  private KvGroupState state = KvGroupState.AWAITING_ID;
  private String brokenReason = "";

  /** @param agents the fleet, in rank order (FleetAgent.index == rank) */
  public DisaggregatedKvGroup(ParallelLayout.Disaggregated layout, List<FleetAgent> agents, ActorRef<AgentReport> reportTo,
      Duration timeout, Host host) {
    if (agents.size() != layout.agents()) {
      throw new IllegalArgumentException(layout.label() + " needs " + layout.agents() + " agents, the fleet has "
          + agents.size());
    }
    this.layout = layout;
    this.agents = List.copyOf(agents);
    this.reportTo = reportTo;
    this.timeout = timeout;
    this.host = host;
    this.roles = new DisaggregatedPlacement(layout, agents);
  }

  /** Starts forming the group: agent 0 makes the id. */
  public void start() {
    agents.get(0).info.ref().tell(new AgentCommand.CreateKvGroupId(reportTo));
  }

  /** Whether hand-offs run: the group formed and has not broken. */
  @Override
  public boolean intact() {
    return state == KvGroupState.READY;
  }

  /** Decode agents take drained decode agents' sequences. */
  @Override
  public boolean takesMigrations(FleetAgent agent) {
    return agents.contains(agent) && !layout.prefills(agent.index);
  }

  @Override
  public KvTransferLog log() {
    return log;
  }

  /** Why the group did not form in time, for the load's failure. */
  public String describeTimeout() {
    return "the KV-transfer group of " + layout.label() + " did not form within " + timeout.toSeconds() + " s: "
        + (state == KvGroupState.AWAITING_ID ? agents.get(0).info.agentId() + " made no group id"
            : joined.size() + " of " + agents.size() + " agents joined " + joined);
  }

  /**
   * The prefill agent for a new (or re-placed) sequence, or null when the fleet places it
   * data-parallel instead: the group is not intact, or no decode agent could ever hold it.
   */
  @Override
  public FleetAgent prefillAgent(InFlightSequence seq, PlacementPolicy policy) {
    return state == KvGroupState.READY ? roles.prefillAgent(seq, policy) : null;
  }

  /** Handles a KV-transfer report; false when {@code report} is not one. */
  @Override
  public boolean onReport(AgentReport report, FleetAgent agent) {
    if (report instanceof AgentReport.KvGroupId m) {
      onGroupId(agent, m.id());
    } else if (report instanceof AgentReport.KvGroupJoined m) {
      if (state == KvGroupState.JOINING && joined.add(agent.info.agentId()) && joined.size() == agents.size()) {
        state = KvGroupState.READY;
        host.groupReady().run();
      }
    } else if (report instanceof AgentReport.KvGroupFailed m) {
      onGroupFailed(agent, m.reason());
    } else if (report instanceof AgentReport.KvReady m) {
      onKvReady(agent, m.sequenceId(), m.numComputedTokens());
    } else if (report instanceof AgentReport.KvTransferred m) {
      onTransferred(agent, m);
    } else {
      return false;
    }
    return true;
  }

  private void onGroupId(FleetAgent agent, byte[] id) {
    if (state != KvGroupState.AWAITING_ID || agent != agents.get(0)) return;
    state = KvGroupState.JOINING;
    for (FleetAgent a : agents) {
      List<Integer> peers = new ArrayList<>();
      for (FleetAgent b : agents) {
        if (layout.prefills(a.index) != layout.prefills(b.index)) peers.add(b.index);
      }
      a.info.ref().tell(new AgentCommand.JoinKvGroup(id, a.index, agents.size(), peers, layout.transfer().label(),
          timeout.toMillis(), reportTo));
    }
  }

  private void onGroupFailed(FleetAgent agent, String reason) {
    String why = agent.info.agentId() + ": " + reason;
    if (state.forming()) {
      abortAll("the group could not form (" + why + ")");
      host.groupFailed().accept("agent " + agent.info.agentId() + " could not join the KV-transfer group of " + layout.label()
          + ": " + reason);
    } else {
      breakGroup(why);
    }
  }

  private void onKvReady(FleetAgent from, long id, int numComputed) {
    InFlightSequence seq = host.sequences().apply(id);
    if (seq == null || seq.agent != from) {
      from.info.ref().tell(new AgentCommand.SendKv(id, -1)); // it ended or moved meanwhile: free the blocks
      return;
    }
    FleetAgent to = state == KvGroupState.READY ? roles.decodeAgent(seq.totalTokens()) : null;
    if (to == null) {
      from.info.ref().tell(new AgentCommand.SendKv(id, -1));
      host.replace().accept(seq, state == KvGroupState.READY ? "no decode agent can hold it"
          : "the KV-transfer group is broken (" + brokenReason + ")");
      return;
    }
    KvTransfer move = new KvTransfer(KvTransferKind.HANDOFF, from, to, System.nanoTime(), seq.reservedTokens);
    handoffs.put(id, move);
    // The prefill agent keeps its reservation until its send is over; the decode agent's starts now.
    seq.agent = to;
    seq.reservedTokens = seq.totalTokens();
    to.reserve(seq.reservedTokens);
    move.start(seq, numComputed);
  }

  private void onTransferred(FleetAgent agent, AgentReport.KvTransferred r) {
    KvTransfer h = handoffs.get(r.sequenceId());
    if (r.outcome() == KvTransferOutcome.FAILED) breakGroup(agent.info.agentId() + ": " + r.detail());
    if (h == null || !h.awaits(r, agent)) return;
    if (r.sender()) {
      h.sent(r);
      complete(r.sequenceId(), h);
      return;
    }
    h.received(r);
    if (r.outcome() == KvTransferOutcome.FAILED) {
      InFlightSequence seq = host.sequences().apply(r.sequenceId());
      if (seq != null && seq.agent == agent) host.replace().accept(seq, "its KV transfer failed: " + r.detail());
    }
    complete(r.sequenceId(), h);
  }

  /** Logs a hand-off once both sides are heard from (or the silent one is gone). */
  private void complete(long id, KvTransfer h) {
    if (!h.done()) return;
    handoffs.remove(id);
    h.logTo(log, id);
  }

  /** An agent of the fleet left the cluster. */
  @Override
  public void agentLost(FleetAgent agent) {
    if (state.forming()) {
      abortAll("agent " + agent.info.agentId() + " left");
      host.groupFailed().accept("agent " + agent.info.agentId() + " left the cluster while the KV-transfer group formed");
      return;
    }
    breakGroup("agent " + agent.info.agentId() + " left the cluster");
    for (Map.Entry<Long, KvTransfer> e : new ArrayList<>(handoffs.entrySet())) {
      if (e.getValue().agentLost(agent)) complete(e.getKey(), e.getValue());
    }
  }

  /** The group is unusable from now on: every member aborts it, and placement turns data-parallel. */
  @Override
  public void breakGroup(String reason) {
    if (state == KvGroupState.BROKEN) return;
    boolean formed = state == KvGroupState.READY;
    state = KvGroupState.BROKEN;
    brokenReason = reason;
    if (formed) {
      host.warn().accept("KV-transfer group of " + layout.label() + " broken (" + reason
          + "); pending hand-offs are re-placed and the fleet now places data-parallel");
    }
    abortAll(reason);
  }

  private void abortAll(String reason) {
    state = KvGroupState.BROKEN;
    if (brokenReason.isEmpty()) brokenReason = reason;
    for (FleetAgent a : agents) {
      if (a.alive) a.info.ref().tell(new AgentCommand.AbortKvGroup(reason));
    }
  }

  /** The group and its hand-offs (and drain migrations) so far, for cluster snapshots. */
  @Override
  public KvTransferHistory transfers() {
    return log.snapshot(layout.label(), layout.transfer().label(), state.describe(brokenReason));
  }
}
