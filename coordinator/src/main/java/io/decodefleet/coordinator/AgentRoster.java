package io.decodefleet.coordinator;

import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.fleet.AgentInfo;
import io.decodefleet.coordinator.fleet.AgentRegistry;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.fleet.FleetAgent;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;

/**
 * The agents the Coordinator may load: those the Receptionist lists that answered Register and that
 * the {@link AgentRegistry} admitted (it owns the rule of who holds an agent id). A Coordinator that
 * starts (first, or taking over) learns every agent this way. Called on the Coordinator's actor
 * thread only.
 */
final class AgentRoster {
  /** Who holds which agent id: one value, replaced on each registration and listing. */
  private AgentRegistry registry = AgentRegistry.EMPTY;
  private Set<ActorRef<AgentCommand>> listed = new HashSet<>();

  /**
   * The Receptionist's listing now: agents new to it, and agents waiting for their id to be free, are
   * asked to Register with {@code replyTo}; agents no longer in it are forgotten.
   */
  void listed(Set<ActorRef<AgentCommand>> now, ActorRef<AgentReport> replyTo) {
    for (ActorRef<AgentCommand> agent : now) {
      if (!listed.contains(agent) || registry.waits(agent)) agent.tell(new AgentCommand.Register(replyTo));
    }
    registry = registry.retain(now);
    listed = new HashSet<>(now);
  }

  /**
   * An agent answered Register: it is admitted, waits, or is refused (told so, and the line logged).
   *
   * @param liveNode whether a node address names a live member of the cluster now
   * @return false (and ignored) when the listing no longer has it
   */
  boolean registered(AgentReport.Registered r, Predicate<String> liveNode, Logger log) {
    if (!listed.contains(r.agent())) return false;
    AgentRegistry.Admission admission = registry.admit(AgentInfo.of(r), liveNode);
    registry = admission.registry();
    if (admission.refused()) {
      log.warn(admission.refusal());
      r.agent().tell(new AgentCommand.RegistrationRefused(admission.refusal()));
    }
    return true;
  }

  int size() {
    return registry.size();
  }

  /** The agent {@code ref} as admitted (holding its id); null if it is not (waiting, refused or unknown). */
  AgentInfo admitted(ActorRef<AgentCommand> ref) {
    return registry.agents().get(ref);
  }

  /** The line of the last refusal, or "" (said again when a fleet does not form). */
  String lastRefusal() {
    return registry.lastRefusal();
  }

  /** The fleet's agents, then every registered agent outside it (holding no model of the fleet). */
  List<AgentSnapshot> snapshots(List<FleetAgent> fleet) {
    List<AgentSnapshot> agents = new ArrayList<>();
    Set<String> inFleet = new HashSet<>();
    for (FleetAgent a : fleet) {
      agents.add(a.snapshot());
      inFleet.add(a.info.agentId());
    }
    for (AgentInfo info : registry.sorted()) {
      if (!inFleet.contains(info.agentId())) agents.add(AgentSnapshot.unloaded(info));
    }
    return agents;
  }

  /** The agents whose replicas are what {@code layout} loads, by id. */
  List<AgentInfo> sorted(io.decodefleet.coordinator.fleet.ParallelLayout layout) {
    return registry.sorted(layout);
  }
}
