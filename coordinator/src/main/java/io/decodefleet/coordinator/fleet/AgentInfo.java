package io.decodefleet.coordinator.fleet;

import io.decodefleet.agent.protocol.AgentCommand;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A registered agent as the coordinator knows it.
 *
 * @param tensorParallel GPUs the agent's replica spans (1, or K for a tensor-parallel group)
 */
public record AgentInfo(String agentId, ActorRef<AgentCommand> ref, String nodeAddress, String device,
    String backend, int tensorParallel) {}
