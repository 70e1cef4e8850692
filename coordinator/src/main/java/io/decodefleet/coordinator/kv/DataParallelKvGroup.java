package io.decodefleet.coordinator.kv;

import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.fleet.FleetAgent;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;

/**
 * The KV-transfer group of a data-parallel fleet, used only to move a drained agent's sequences
 * with their KV ({@link KvDrainTransfers}). Every agent is every other's peer (rank = fleet index).
 *
 * <p>It forms only where it can: two or more agents, every backend able to move KV, and CPU agents
 * all in one process (the CPU backend's exchange is in-process; CUDA agents in other processes or
 * on other nodes connect through NCCL, whose unique id bootstraps over TCP). Forming costs a
 * communicator per agent (NCCL on CUDA) at fleet load, and the fleet reports ready only once the
 * group formed or gave up (joining blocks the agents' engines). A group that cannot form, or breaks,
 * is logged and leaves the fleet re-prefilling drained sequences as before; it never fails a load
 * or a run.
 *
 * <p>Owned by the {@code Coordinator} (through {@link KvDrainTransfers}), called on its actor thread only.
 */
final class DataParallelKvGroup implements KvGroup {

  private static final KvTransferMode MODE = KvTransferMode.EAGER;

  private final List<FleetAgent> agents;
  private final ActorRef<AgentReport> reportTo;
  private final Duration timeout;
  private final Logger log;
  private final Runnable onSettled;
  private boolean settled;
  private final Set<String> joined = new LinkedHashSet<>();
  private final KvTransferLog transfers = new KvTransferLog();
  private KvGroupState state = KvGroupState.AWAITING_ID;
  private String brokenReason = "";

  private DataParallelKvGroup(List<FleetAgent> agents, ActorRef<AgentReport> reportTo, Duration timeout, Logger log,
      Runnable onSettled) {
    this.onSettled = onSettled;
    this.agents = List.copyOf(agents);
    this.reportTo = reportTo;
    this.timeout = timeout;
    this.log = log;
  }

  /**
   * Starts forming the group of {@code fleet} (in rank order) and returns it, or returns null when
   * the fleet cannot have one (logged at info: why).
   *
   * @param timeout limit for joining and for each transfer
   * @param onSettled run once, when the group is ready or broken
   */
  static DataParallelKvGroup form(List<FleetAgent> fleet, ActorRef<AgentReport> reportTo, Duration timeout,
      Logger log, Runnable onSettled) {
    String why = whyNot(fleet);
    if (why != null) {
      log.info("data-parallel fleet without a KV-transfer group ({}): drained agents' sequences are re-prefilled",
          why);
      return null;
    }
    DataParallelKvGroup g = new DataParallelKvGroup(fleet, reportTo, timeout, log, onSettled);
    g.agents.get(0).info.ref().tell(new AgentCommand.CreateKvGroupId(reportTo));
    return g;
  }

  /** Why {@code fleet} cannot form a group, or null when it can. */
  static String whyNot(List<FleetAgent> fleet) {
    if (fleet.size() < 2) return "a single agent";
    for (FleetAgent a : fleet) {
      if (!a.kvTransferUnsupported.isEmpty()) return a.info.agentId() + ": " + a.kvTransferUnsupported;
    }
    if (fleet.stream().allMatch(a -> "cuda".equals(a.info.backend()))) return null;
    String process = fleet.get(0).process;
    for (FleetAgent a : fleet) {
      if (process.isEmpty() || !a.process.equals(process)) {
        return "its CPU agents are not all in one process (they exchange KV in-process)";
      }
    }
    return null;
  }

  @Override
  public boolean intact() {
    return state == KvGroupState.READY;
  }

  @Override
  public boolean takesMigrations(FleetAgent agent) {
    return agents.contains(agent);
  }

  @Override
  public boolean onReport(AgentReport report, FleetAgent agent) {
    if (report instanceof AgentReport.KvGroupId m) {
      if (state == KvGroupState.AWAITING_ID && agent == agents.get(0)) join(m.id());
    } else if (report instanceof AgentReport.KvGroupJoined) {
      if (state == KvGroupState.JOINING && joined.add(agent.info.agentId()) && joined.size() == agents.size()) {
        state = KvGroupState.READY;
        log.info("data-parallel fleet formed its KV-transfer group: drained agents' sequences move with their KV");
        settle();
      }
    } else if (report instanceof AgentReport.KvGroupFailed m) {
      breakGroup(agent.info.agentId() + ": " + m.reason());
    } else {
      return false;
    }
    return true;
  }

  private void join(byte[] id) {
    state = KvGroupState.JOINING;
    for (FleetAgent a : agents) {
      List<Integer> peers = new ArrayList<>();
      for (FleetAgent b : agents) {
        if (b != a) peers.add(b.index);
      }
      a.info.ref().tell(new AgentCommand.JoinKvGroup(id, a.index, agents.size(), peers, MODE.label(), timeout.toMillis(),
          reportTo));
    }
  }

  @Override
  public void agentLost(FleetAgent agent) {
    breakGroup("agent " + agent.info.agentId() + " left the cluster");
  }

  @Override
  public void breakGroup(String reason) {
    if (state == KvGroupState.BROKEN) return;
    log.warn("data-parallel KV-transfer group {} ({}): drained agents' sequences are re-prefilled from now on",
        state == KvGroupState.READY ? "broken" : "could not form", reason);
    state = KvGroupState.BROKEN;
    brokenReason = reason;
    for (FleetAgent a : agents) {
      if (a.alive) a.info.ref().tell(new AgentCommand.AbortKvGroup(reason));
    }
    settle();
  }

  /** Whether the group is still forming (neither ready nor broken). */
  boolean forming() {
    return state.forming();
  }

  private void settle() {
    if (!settled) {
      settled = true;
      onSettled.run();
    }
  }

  @Override
  public KvTransferLog log() {
    return transfers;
  }

  @Override
  public KvTransferHistory transfers() {
    return transfers.snapshot(ParallelLayout.DATA_PARALLEL.label(), MODE.label(), state.describe(brokenReason));
  }
}
