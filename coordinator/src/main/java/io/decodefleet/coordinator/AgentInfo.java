package io.decodefleet.coordinator;

import io.decodefleet.agent.GpuAgent;
import org.apache.pekko.actor.typed.ActorRef;

/** A registered agent as the coordinator knows it. */
public record AgentInfo(String agentId, ActorRef<GpuAgent.Command> ref, String nodeAddress, String device,
    String backend) {}
