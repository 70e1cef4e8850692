package io.decodefleet.coordinator.simulation;

import io.decodefleet.agent.engine.Sequence;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.fleet.FleetAgent;
import io.decodefleet.coordinator.fleet.InFlightSequence;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.fleet.PlacementRule;
import io.decodefleet.coordinator.kv.DisaggregatedPlacement;
import io.decodefleet.coordinator.kv.KvTransferHistory;
import io.decodefleet.coordinator.kv.KvTransferKind;
import io.decodefleet.coordinator.kv.KvTransferRecord;
import io.decodefleet.coordinator.metrics.AgentDescription;
import io.decodefleet.coordinator.metrics.MetricsRecorder;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import io.decodefleet.coordinator.run.RunTotals;
import io.decodefleet.coordinator.workload.ReleaseSchedule;
import io.decodefleet.coordinator.workload.RequestSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The coordinator's side of a {@link FleetSimulation}, on the virtual clock: releases the workload
 * by its {@link ReleaseSchedule}, places every sequence by the real {@link PlacementRule} (and, in
 * a disaggregated fleet, {@link DisaggregatedPlacement}), timestamps every token of every step report
 * into a {@link MetricsRecorder}, hands prefilled sequences' KV to decode agents, and re-places a lost
 * agent's sequences with {@link PlacementRule#evacuate} once it notices the loss. A lost agent of a
 * disaggregated fleet breaks its KV group: pending hand-offs are re-placed and the fleet places
 * data-parallel from then on, as the coordinator's {@code DisaggregatedKvGroup} does.
 */
final class SimulatedCoordinator {
  private final SimulationSpec spec;
  private final List<FleetAgent> fleet;
  private final Map<FleetAgent, SimulatedAgent> agentOf = new IdentityHashMap<>();
  private final EventQueue queue;
  private final FleetSimulation agents;
  private final PlacementRule rule = new PlacementRule();
  private final MetricsRecorder recorder = new MetricsRecorder();
  private final ReleaseSchedule schedule;
  private final boolean conversations;
  private final Map<Long, InFlightSequence> inFlight = new HashMap<>();
  private final ClusterSnapshot atStart;
  private final String path;
  private final KvHandoffs handoffs;
  private int outstanding;
  private int terminal;
  private long endNanos = -1;
  /** When release() runs next for an arrival; -1: not scheduled. */
  private long nextWake = -1;
  private int agentsLost;
  private long migrations;

  SimulatedCoordinator(SimulationSpec spec, List<FleetAgent> fleet, List<SimulatedAgent> simulated, EventQueue queue,
      FleetSimulation agents) {
    this.spec = spec;
    this.fleet = fleet;
    for (SimulatedAgent a : simulated) agentOf.put(a.view, a);
    this.queue = queue;
    this.agents = agents;
    this.schedule = new ReleaseSchedule(spec.requests(), spec.maxConcurrency());
    this.conversations = spec.requests().stream().anyMatch(RequestSpec::followsTurn);
    this.path = spec.decodePath() == null ? spec.calibration().backend() : spec.decodePath();
    rule.useModel(spec.model());
    this.handoffs = spec.layout() instanceof ParallelLayout.Disaggregated d ? new KvHandoffs(d) : null;
    if (handoffs != null) rule.usePrefillStage(handoffs::prefillAgent);
    this.atStart = snapshot();
  }

  void start() {
    queue.at(0, this::release);
  }

  boolean done() {
    return endNanos >= 0;
  }

  int outstanding() {
    return outstanding;
  }

  /** Requests finished or failed so far. */
  long settled() {
    return terminal;
  }

  // ---- release and placement ----------------------------------------------------------------------

  /** Releases what the schedule allows now and wakes up again at the next arrival. */
  private void release() {
    long now = queue.now();
    for (RequestSpec r : schedule.release(now, outstanding)) {
      recorder.requestReleased(r.requestId(), r.promptTokens().length, r.maxTokens(), now);
      outstanding++;
      String busy = rule.busy(fleet, spec.agents(), r.promptTokens().length + r.maxTokens());
      if (busy != null) {
        fail(r.requestId(), busy);
        continue;
      }
      place(new InFlightSequence(r.requestId(), r.requestId(), r.promptTokens(), r.maxTokens(), SamplingParams.GREEDY,
          spec.agents(), spec.placement(), null));
    }
    long wait = schedule.nanosUntilNextArrival(now);
    // One wake-up per arrival time: release() also runs on every request's end.
    if (wait > 0 && now + wait != nextWake) {
      nextWake = now + wait;
      queue.at(nextWake, this::release);
    }
    finishIfDone();
  }

  /** Places {@code seq} by the rule and sends it to its agent, or fails it. */
  private void place(InFlightSequence seq) {
    PlacementRule.Outcome outcome = rule.place(fleet, seq);
    if (outcome instanceof PlacementRule.Refused refused) {
      inFlight.remove(seq.globalId);
      fail(seq.globalId, refused.reason());
      return;
    }
    PlacementRule.Placed placed = (PlacementRule.Placed) outcome;
    inFlight.put(seq.globalId, seq);
    agents.send(agentOf.get(placed.agent()), placed.spec());
  }

  private void releaseReservation(InFlightSequence seq) {
    inFlight.remove(seq.globalId);
    seq.agent.unreserve(seq.reservedTokens);
  }

  /** Takes {@code seq} off its agent and places it anew, re-prefilled with its tokens so far. */
  private void replace(InFlightSequence seq) {
    releaseReservation(seq);
    place(seq);
  }

  // ---- reports from agents --------------------------------------------------------------------------

  /** A step report reached the coordinator: tokens are timestamped now. */
  void stepped(SimulatedAgent agent, SimulatedAgent.StepEnd end, long stepNanos) {
    long now = queue.now();
    FleetAgent view = agent.view;
    for (int i = 0; i < end.producedIds().length; i++) {
      InFlightSequence seq = inFlight.get(end.producedIds()[i]);
      if (seq == null || seq.agent != view) continue;
      seq.append(new int[] {end.producedTokens()[i]});
      recorder.tokensArrived(seq.globalId, agent.id, 1, now);
    }
    boolean ended = false;
    for (SimulatedAgent.Finished f : end.finished()) {
      InFlightSequence seq = inFlight.get(f.id());
      if (seq == null || seq.agent != view) continue;
      releaseReservation(seq);
      finished(seq, f.reason(), f.queueNanos(), f.prefillNanos());
      ended = true;
    }
    if (end.producedIds().length > 0 || end.preempted() > 0) {
      view.stepped(new AgentReport.StepReport(agent.id, 0, List.of(), List.of(), end.freeBlocks(), end.running(),
          end.waiting(), end.scheduledTokens(), stepNanos, end.preempted(), end.numSequences(), path, stepNanos,
          Double.NaN, Double.NaN));
    }
    if (!end.cacheChanges().isEmpty() || end.prefixQueried() != 0) {
      view.prefixCached(new AgentReport.PrefixCacheReport(agent.id, end.cacheChanges().added(),
          end.cacheChanges().evicted(), end.prefixQueried(), end.prefixHits(), end.prefixDeferred()));
    }
    for (Sequence parked : end.parked()) handoffs.kvReady(agent, parked);
    if (ended) release();
  }

  /** {@code seq} ended with every token it may produce: its conversation's next turn, if any, is due. */
  private void finished(InFlightSequence seq, String reason, long queueNanos, long prefillNanos) {
    recorder.requestFinished(seq.globalId, reason, queueNanos, prefillNanos, queue.now());
    outstanding--;
    terminal++;
    if (conversations) {
      int[] all = seq.continuationPrompt();
      schedule.finished(seq.globalId, seq.prompt, Arrays.copyOfRange(all, seq.prompt.length, all.length));
    }
  }

  /** The agent refused a sequence it was sent (it can never run there). */
  void refused(SimulatedAgent agent, long seqId, String reason) {
    InFlightSequence seq = inFlight.get(seqId);
    if (seq == null || seq.agent != agent.view) return;
    releaseReservation(seq);
    fail(seqId, agent.id + ": " + reason);
    release();
  }

  private void fail(long requestId, String reason) {
    long now = queue.now();
    recorder.requestFailed(requestId, reason, now);
    outstanding--;
    terminal++;
    for (RequestSpec dropped : schedule.failed(requestId)) {
      recorder.requestReleased(dropped.requestId(), 0, dropped.maxTokens(), now);
      recorder.requestFailed(dropped.requestId(), "an earlier turn of its conversation failed", now);
      terminal++;
    }
  }

  /** The coordinator noticed that {@code agent} is gone: its sequences are re-placed. */
  void lost(SimulatedAgent agent) {
    if (done()) return;
    FleetAgent view = agent.view;
    view.alive = false;
    agentsLost++;
    if (handoffs != null) handoffs.breakGroup();
    List<InFlightSequence> on = inFlight.values().stream().filter(s -> s.agent == view)
        .sorted((a, b) -> Long.compare(a.globalId, b.globalId)).toList();
    PlacementRule.evacuate(view, on, new PlacementRule.Evacuation() {
      @Override
      public void release(InFlightSequence seq) {
        releaseReservation(seq);
      }

      @Override
      public void finished(InFlightSequence seq) {
        SimulatedCoordinator.this.finished(seq, "length", -1, -1);
      }

      @Override
      public void replace(InFlightSequence seq) {
        migrations++;
        place(seq);
        if (seq.agent != view && inFlight.containsKey(seq.globalId)) {
          recorder.requestMigrated(seq.globalId, view.info.agentId(), seq.agent.info.agentId());
        }
      }
    });
    release();
  }

  private void finishIfDone() {
    if (endNanos < 0 && schedule.allReleased() && outstanding == 0) endNanos = queue.now();
  }

  // ---- the result -----------------------------------------------------------------------------------

  SweepPoint point() {
    long end = Math.max(1, endNanos);
    ClusterSnapshot atEnd = snapshot();
    List<String> ids = fleet.stream().map(a -> a.info.agentId()).toList();
    List<AgentDescription> described = new ArrayList<>();
    for (AgentSnapshot a : atEnd.agents()) {
      described.add(new AgentDescription(a.agentId(), a.device(), a.backend(), a.nodeAddress(), a.alive(), a.kvBlocks(),
          a.blockSize(), a.loadReport()));
    }
    return SweepPoint.of(spec.gpus(), recorder.summarize(0, end), recorder.requests(0),
        RunTotals.engine(atStart, atEnd, ids), null, described);
  }

  private ClusterSnapshot snapshot() {
    List<AgentSnapshot> snapshots = fleet.stream().map(FleetAgent::snapshot).toList();
    return new ClusterSnapshot(spec.model().model(), fleet.size(), snapshots, agentsLost, migrations,
        handoffs == null ? null : handoffs.history(), 0);
  }

  /**
   * The disaggregated layout's hand-offs: a prefilled sequence's KV moves to a decode agent in the
   * calibration's transfer time, after the SendKv/ReceiveKv messages reach both agents.
   */
  private final class KvHandoffs {
    private final ParallelLayout.Disaggregated layout;
    private final DisaggregatedPlacement roles;
    private final List<KvTransferRecord> records = new ArrayList<>();
    private final Map<Long, Handoff> pending = new HashMap<>();
    private boolean intact = true;

    KvHandoffs(ParallelLayout.Disaggregated layout) {
      if (spec.calibration().kvTransfer() == null) {
        throw new IllegalArgumentException("--layout " + layout.label() + " needs the calibration's kv_transfer "
            + "term (the time to move a sequence's KV), and this calibration has none");
      }
      this.layout = layout;
      this.roles = new DisaggregatedPlacement(layout, fleet);
    }

    FleetAgent prefillAgent(InFlightSequence seq, io.decodefleet.coordinator.placement.PlacementPolicy policy) {
      return intact ? roles.prefillAgent(seq, policy) : null;
    }

    /** The prefill agent parked {@code parked} after its first token: its KV goes to a decode agent. */
    void kvReady(SimulatedAgent from, Sequence parked) {
      long id = parked.id();
      InFlightSequence seq = inFlight.get(id);
      if (seq == null || seq.agent != from.view) {
        agents.tell(from, () -> from.releaseParked(id));
        return;
      }
      FleetAgent toView = intact ? roles.decodeAgent(seq.totalTokens()) : null;
      if (toView == null) {
        agents.tell(from, () -> from.releaseParked(id));
        replace(seq);
        return;
      }
      // The prefill agent keeps its reservation until the send is over; the decode agent's starts now.
      Handoff h = new Handoff(parked, from, agentOf.get(toView), seq.reservedTokens, queue.now());
      seq.agent = toView;
      seq.reservedTokens = seq.totalTokens();
      toView.reserve(seq.reservedTokens);
      pending.put(id, h);
      agents.tell(h.to, h::begin); // SendKv and ReceiveKv reach the agents; the transfer runs from then
    }

    /** An agent was lost: the group breaks, pending hand-offs are re-placed, placement turns data-parallel. */
    void breakGroup() {
      intact = false;
      for (Handoff h : new ArrayList<>(pending.values())) {
        h.cancel();
        InFlightSequence seq = inFlight.get(h.parked.id());
        if (seq != null && seq.agent.alive) replace(seq);
      }
      pending.clear();
    }

    /** One sequence's KV on its way from a prefill agent to a decode agent. */
    private final class Handoff {
      final Sequence parked;
      final SimulatedAgent from;
      final SimulatedAgent to;
      final int prefillReserved;
      final long decidedNanos;
      final long transferNanos;
      boolean cancelled;
      /** Whether the decode agent had blocks for the KV (else it re-prefills the sequence). */
      boolean received;

      Handoff(Sequence parked, SimulatedAgent from, SimulatedAgent to, int prefillReserved, long decidedNanos) {
        this.parked = parked;
        this.from = from;
        this.to = to;
        this.prefillReserved = prefillReserved;
        this.decidedNanos = decidedNanos;
        this.transferNanos = Math.round(spec.calibration().kvTransfer().micros(parked.numComputedTokens()) * 1e3);
      }

      /** The decode agent takes blocks for the arriving KV; the transfer ends transferNanos later. */
      void begin() {
        if (cancelled || !from.alive) return; // a lost sender: the group breaks once the coordinator notices
        received = to.receive(continued(parked.numComputedTokens()));
        queue.at(queue.now() + transferNanos, this::end);
      }

      void end() {
        if (cancelled) {
          if (received && to.alive) to.dropReceiving(parked.id());
          return;
        }
        pending.remove(parked.id());
        from.releaseParked(parked.id());
        from.view.unreserve(prefillReserved);
        if (!to.alive) return; // its sequences are re-placed once the coordinator notices
        if (received) {
          to.activate(parked.id());
        } else {
          to.addRecomputed(continued(0));
        }
        agents.startIfIdle(to);
        double ms = transferNanos / 1e6;
        records.add(new KvTransferRecord(records.size(), parked.id(), from.id, to.id, parked.numComputedTokens()
            * spec.calibration().kvTransfer().bytesPerToken(), ms, ms, (queue.now() - decidedNanos) / 1e6, !received,
            KvTransferKind.HANDOFF));
      }

      /** The group broke: the prefill agent frees the KV, the decode agent drops what arrived. */
      void cancel() {
        cancelled = true;
        from.view.unreserve(prefillReserved);
        agents.tell(from, () -> from.releaseParked(parked.id()));
      }

      /** The sequence as the decode agent continues it, with {@code computed} positions of KV. */
      private Sequence continued(int computed) {
        return Sequence.continued(parked.id(), parked.promptTokens(), parked.outputTokens(), parked.maxTokens(),
            computed, parked.sampling());
      }
    }

    KvTransferHistory history() {
      return new KvTransferHistory(layout.label(), "simulated", intact ? "ready" : "broken: an agent was lost",
          records.size(), records);
    }
  }
}
