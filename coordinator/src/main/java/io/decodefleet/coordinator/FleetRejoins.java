package io.decodefleet.coordinator;

import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.fleet.AgentInfo;
import io.decodefleet.coordinator.fleet.FleetAgent;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Agents of a serving fleet that come back. A daemon that is restarted (after a crash, or a SIGTERM
 * that drained it) registers again with its agents' old ids; an agent whose id is that of a fleet
 * agent that left the cluster gets the fleet's model, and once it has loaded it takes the lost agent's
 * place (its index, so placement's fleet order holds), so a fleet that loses agents to restarts grows
 * back to its size instead of shrinking for good. The {@code AgentRegistry} admits such an agent only
 * once the lost one has left the Receptionist's listing, which is when the Coordinator counts it lost.
 *
 * <p>Only a fleet loaded with no load in progress, in a layout without a KV-transfer group of its own
 * (data-parallel or tensor-parallel: the caller passes no model otherwise); the returning agent joins
 * no group, so drained sequences are re-prefilled on it, never moved to it with their KV. Owned by the
 * Coordinator and called on its actor thread only.
 */
final class FleetRejoins {
  private static final Logger LOG = LoggerFactory.getLogger(FleetRejoins.class);

  private final List<FleetAgent> fleet;
  private final Map<String, FleetAgent> fleetById;
  /** By agent id: returning agents loading the model, not yet in the fleet. */
  private final Map<String, FleetAgent> loading = new HashMap<>();

  /** @param fleet the coordinator's fleet and its index by agent id, read and updated as they change */
  FleetRejoins(List<FleetAgent> fleet, Map<String, FleetAgent> fleetById) {
    this.fleet = fleet;
    this.fleetById = fleetById;
  }

  /**
   * {@code agent} was admitted: if it has the id of a fleet agent that was lost, it is offered that
   * agent's place and loads the model.
   *
   * @param agent the admitted agent; null (nothing to do) when it was not admitted
   * @param model the model the fleet serves, or null when it may not take agents back now (none loaded,
   *     a load in progress, a disaggregated layout)
   * @param reportTo where the agent reports (its ModelLoaded comes back through {@link #reported})
   */
  void offer(AgentInfo agent, ModelSpec model, ActorRef<AgentReport> reportTo) {
    if (agent == null || model == null) return;
    FleetAgent lost = fleetById.get(agent.agentId());
    if (lost == null || lost.alive || lost.info.tensorParallel() != agent.tensorParallel()) return;
    loading.put(agent.agentId(), new FleetAgent(agent, lost.index));
    LOG.info("agent {} is back ({}): loading {} on it to take its place in the fleet", agent.agentId(),
        agent.nodeAddress(), model.model());
    agent.ref().tell(new AgentCommand.LoadModel(model, reportTo));
  }

  /**
   * A ModelLoaded report; true when it was a returning agent's, handled here: it takes the lost
   * agent's place in the fleet (if that one is still lost, and still in the fleet). (A returning agent whose load fails stays out; registering again
   * gives it another try.)
   */
  boolean reported(AgentReport.ModelLoaded m) {
    FleetAgent back = loading.remove(m.agentId());
    if (back == null) return false;
    FleetAgent lost = fleetById.get(m.agentId());
    int at = lost == null || lost.alive ? -1 : fleet.indexOf(lost);
    if (at < 0) return false; // the fleet was loaded anew meanwhile: the report is the new load's
    back.loaded(m);
    fleet.set(at, back);
    fleetById.put(m.agentId(), back);
    LOG.info("agent {} took its place in the fleet again", m.agentId());
    return true;
  }
}
