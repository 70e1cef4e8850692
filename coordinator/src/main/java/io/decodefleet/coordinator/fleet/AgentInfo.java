package io.decodefleet.coordinator.fleet;

import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.metrics.AgentOrder;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A registered agent as the coordinator knows it.
 *
 * @param tensorParallel GPUs the agent's replica spans (1, or K for a tensor-parallel group)
 */
public record AgentInfo(String agentId, ActorRef<AgentCommand> ref, String nodeAddress, String device,
    String backend, int tensorParallel) {

  /** The agent a registration announces. */
  public static AgentInfo of(AgentReport.Registered r) {
    return new AgentInfo(r.agentId(), r.agent(), r.nodeAddress(), r.device(), r.backend(), r.tensorParallel());
  }

  /**
   * {@code agents} in agent id order (the order a fleet is loaded in), only those whose replicas span
   * {@code tensorParallel} GPUs (what a layout may load); 0: all of them.
   */
  public static List<AgentInfo> byId(Collection<AgentInfo> agents, int tensorParallel) {
    return agents.stream().filter(a -> tensorParallel == 0 || a.tensorParallel() == tensorParallel)
        .sorted(Comparator.comparing(AgentInfo::agentId, AgentOrder.INSTANCE)).toList();
  }
}
