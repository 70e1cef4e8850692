package io.decodefleet.coordinator.kv;

import io.decodefleet.agent.engine.kv.HeldKv;
import io.decodefleet.agent.engine.kv.KvTransferOutcome;
import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.fleet.FleetAgent;
import io.decodefleet.coordinator.fleet.FleetScope;
import io.decodefleet.coordinator.fleet.InFlightSequence;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.fleet.SequencePlacement;
import io.decodefleet.coordinator.placement.LeastLoaded;
import io.decodefleet.coordinator.placement.PlacementPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;

/**
 * Moves a drained agent's decoding sequences to other agents with their KV, over the fleet's
 * KV-transfer group, instead of re-prefilling them.
 *
 * <ul>
 *   <li>The drained agent keeps the sequences whose KV is complete parked (Drained.heldKv); the
 *       rest it hands back, and those are re-prefilled elsewhere as before.
 *   <li>For each held sequence: the least loaded live peer that can hold it (in a disaggregated
 *       fleet a decode agent) gets ReceiveKv, the drained agent SendKv, together, so each pair's
 *       sends and receives are issued in the same order. The target decodes from the moved KV.
 *   <li>No group, a broken one, no such peer, or KV that does not match the coordinator's count of
 *       tokens: the drained agent releases the KV (SendKv to rank -1) and the sequence is
 *       re-prefilled. A transfer that fails breaks the group and re-prefills the sequence; a target
 *       short of free blocks re-prefills it itself (RECOMPUTE).
 * </ul>
 *
 * Owned by the {@code Coordinator} and called on its actor thread only.
 */
public final class KvDrainTransfers {

  private final List<FleetAgent> fleet;
  private final SequencePlacement sequences;
  private final ActorRef<AgentReport> reportTo;
  private final Logger log;
  private final PlacementPolicy targets = new LeastLoaded();
  private final Map<Long, KvTransfer> moves = new HashMap<>(); // from the decision to both sides' reports
  private KvGroup group;

  /** @param fleet the coordinator's fleet, read as it changes */
  public KvDrainTransfers(List<FleetAgent> fleet, SequencePlacement sequences, ActorRef<AgentReport> reportTo, Logger log) {
    this.fleet = fleet;
    this.sequences = sequences;
    this.reportTo = reportTo;
    this.log = log;
  }

  /** Migrations go through {@code g} from now on; null: none (drained sequences re-prefill). */
  public void useGroup(KvGroup g) {
    group = g;
    moves.clear();
  }

  /**
   * The fleet loaded in {@code layout} without a group of its own: a data-parallel one forms an
   * all-pairs group when it can (see {@link DataParallelKvGroup}). Other layouts have none.
   *
   * @param onSettled run once the forming group is ready or broken: the fleet waits for it, since
   *     agents joining a group block their engines, which must not happen inside a measured run;
   *     a group that cannot form only leaves migrations off
   * @return whether a group is forming (else {@code onSettled} is not run)
   */
  public boolean formGroup(ParallelLayout layout, Duration timeout, Runnable onSettled) {
    DataParallelKvGroup g = layout.equals(ParallelLayout.DATA_PARALLEL)
        ? DataParallelKvGroup.form(fleet, reportTo, timeout, log, onSettled) : null;
    useGroup(g);
    return g != null;
  }

  /** Breaks the group (if any): migrations re-prefill from now on. */
  public void breakGroup(String reason) {
    if (group != null) group.breakGroup(reason);
  }

  /** Whether a data-parallel group is still forming. */
  public boolean forming() {
    return group instanceof DataParallelKvGroup g && g.forming();
  }

  /** Handles a migration's transfer report, else passes the report to the group; false if neither took it. */
  public boolean onReport(AgentReport report, FleetAgent agent) {
    if (report instanceof AgentReport.KvTransferred t && ownReport(t, agent)) {
      onTransferred(agent, t, moves.get(t.sequenceId()));
      return true;
    }
    return group != null && group.onReport(report, agent);
  }

  private boolean ownReport(AgentReport.KvTransferred t, FleetAgent agent) {
    KvTransfer m = moves.get(t.sequenceId());
    return m != null && m.awaits(t, agent);
  }

  /**
   * {@code from} drained: its handed-back sequences are re-prefilled elsewhere, its held ones
   * move with their KV where they can.
   */
  public void drained(AgentReport.Drained m, FleetAgent from) {
    String cause = "agent " + m.agentId() + " drained";
    sequences.evacuate(from, m.unfinishedSequenceIds(), cause);
    for (HeldKv held : m.heldKv()) move(from, held, cause);
  }

  private void move(FleetAgent from, HeldKv held, String cause) {
    long id = held.sequenceId();
    InFlightSequence seq = sequences.get(id);
    if (seq == null || seq.agent != from) {
      from.info.ref().tell(new AgentCommand.SendKv(id, -1)); // no longer its: the KV is of no use
      return;
    }
    int tokensSoFar = seq.prompt.length + seq.numGenerated();
    String unmovable = group == null ? "no KV-transfer group"
        : !group.intact() ? "the KV-transfer group is not usable"
        : held.numComputedTokens() != tokensSoFar - 1 ? "its KV holds " + held.numComputedTokens() + " positions, "
            + (tokensSoFar - 1) + " expected"
        : null;
    FleetAgent to = unmovable == null ? target(seq, from) : null;
    if (to == null) {
      from.info.ref().tell(new AgentCommand.SendKv(id, -1));
      log.info("sequence {} re-prefilled: {}", id, unmovable != null ? unmovable : "no peer can take it");
      sequences.evacuate(from, List.of(id), cause);
      return;
    }
    KvTransfer m = new KvTransfer(KvTransferKind.DRAIN_MIGRATION, from, to, System.nanoTime(), seq.reservedTokens); // reservation read before handOver
    moves.put(id, m);
    sequences.handOver(seq, to, cause + ", KV moved");
    m.start(seq, held.numComputedTokens());
  }

  /** The least loaded live peer, among those the sequence may be placed on, that can hold it; or null. */
  private FleetAgent target(InFlightSequence seq, FleetAgent from) {
    List<FleetAgent> scope = FleetScope.firstLive(fleet, a -> a.placeable && a.alive, seq.worldSize);
    List<FleetAgent> candidates = new ArrayList<>();
    for (FleetAgent a : scope) {
      if (a != from && group.takesMigrations(a) && a.canHold(seq.totalTokens())) candidates.add(a);
    }
    if (candidates.isEmpty()) return null;
    return candidates.get(targets.choose(candidates.stream().map(FleetAgent::load).toList(), seq.totalTokens()));
  }

  private void onTransferred(FleetAgent agent, AgentReport.KvTransferred r, KvTransfer m) {
    long id = r.sequenceId();
    if (r.outcome() == KvTransferOutcome.FAILED && group != null) {
      group.breakGroup(agent.info.agentId() + ": " + r.detail()); // the receiver's half then fails too
    }
    if (r.sender()) {
      m.sent(r);
    } else {
      m.received(r);
      InFlightSequence seq = sequences.get(id);
      boolean stillThere = seq != null && seq.agent == agent;
      if (r.outcome() == KvTransferOutcome.DONE && stillThere) {
        sequences.movedWithKv();
      } else if (r.outcome() == KvTransferOutcome.FAILED && stillThere) {
        sequences.replace(seq, "its KV migration failed: " + r.detail());
      }
      // RECOMPUTE: the target re-prefills it itself. DISCARDED: the target drained meanwhile and
      // handed the sequence back, which re-placed it.
    }
    complete(id, m);
  }

  /** Logs a migration once both sides are heard from (or the silent one is gone). */
  private void complete(long id, KvTransfer m) {
    if (!m.done()) return;
    moves.remove(id);
    if (group != null) m.logTo(group.log(), id);
  }

  /** An agent of the fleet left the cluster: its migrations end unheard, and the group learns of it. */
  public void agentLost(FleetAgent agent) {
    if (group != null) group.agentLost(agent);
    for (Map.Entry<Long, KvTransfer> e : new ArrayList<>(moves.entrySet())) {
      if (e.getValue().agentLost(agent)) complete(e.getKey(), e.getValue());
    }
  }

  /** The group and its transfers, or null when the fleet has none. */
  public KvTransferHistory transfers() {
    return group == null ? null : group.transfers();
  }
}
