package io.decodefleet.coordinator.fleet;

import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
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
}
