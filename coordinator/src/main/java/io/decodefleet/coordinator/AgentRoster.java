package io.decodefleet.coordinator;

import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.fleet.AgentInfo;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.fleet.FleetAgent;
import io.decodefleet.coordinator.metrics.AgentOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The agents the Coordinator may load: those the Receptionist lists that answered Register. A
 * Coordinator that starts (first, or taking over) learns every agent this way. Called on the
 * Coordinator's actor thread only.
 */
final class AgentRoster {
  private final Map<ActorRef<AgentCommand>, AgentInfo> registered = new LinkedHashMap<>();
  private Set<ActorRef<AgentCommand>> listed = new HashSet<>();

  /**
   * The Receptionist's listing now: agents new to it are asked to Register with {@code replyTo},
   * agents no longer in it are forgotten.
   */
  void listed(Set<ActorRef<AgentCommand>> now, ActorRef<AgentReport> replyTo) {
    for (ActorRef<AgentCommand> agent : now) {
      if (!listed.contains(agent)) agent.tell(new AgentCommand.Register(replyTo));
    }
    registered.keySet().retainAll(now);
    listed = new HashSet<>(now);
  }

  /** An agent answered Register; false (and ignored) when the listing no longer has it. */
  boolean registered(AgentReport.Registered r) {
    if (!listed.contains(r.agent())) return false;
    registered.put(r.agent(), AgentInfo.of(r));
    return true;
  }

  int size() {
    return registered.size();
  }

  /** Every registered agent, by id. */
  List<AgentInfo> sorted() {
    return registered.values().stream().sorted(Comparator.comparing(AgentInfo::agentId, AgentOrder.INSTANCE)).toList();
  }

  /** The fleet's agents, then every registered agent outside it (holding no model of the fleet). */
  List<AgentSnapshot> snapshots(List<FleetAgent> fleet) {
    List<AgentSnapshot> agents = new ArrayList<>();
    Set<String> inFleet = new HashSet<>();
    for (FleetAgent a : fleet) {
      agents.add(a.snapshot());
      inFleet.add(a.info.agentId());
    }
    for (AgentInfo info : sorted()) {
      if (!inFleet.contains(info.agentId())) agents.add(AgentSnapshot.unloaded(info));
    }
    return agents;
  }

  /** The agents whose replicas span {@code tensorParallel} GPUs, by id: what a layout may load. */
  List<AgentInfo> sorted(int tensorParallel) {
    return sorted().stream().filter(a -> a.tensorParallel() == tensorParallel).toList();
  }
}
