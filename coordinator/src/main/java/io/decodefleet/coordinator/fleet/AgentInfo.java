package io.decodefleet.coordinator.fleet;

import io.decodefleet.agent.engine.tp.Parallelism;
import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A registered agent as the coordinator knows it.
 *
 * @param tensorParallel GPUs the agent's replica spans (1, or K for a tensor- or expert-parallel group)
 * @param parallelism what a replica of K > 1 devices splits: heads and columns, or experts
 */
public record AgentInfo(String agentId, ActorRef<AgentCommand> ref, String nodeAddress, String device,
    String backend, int tensorParallel, Parallelism parallelism) {

  /** A tensor-parallel (or single-device) agent. */
  public AgentInfo(String agentId, ActorRef<AgentCommand> ref, String nodeAddress, String device, String backend,
      int tensorParallel) {
    this(agentId, ref, nodeAddress, device, backend, tensorParallel, Parallelism.TENSOR);
  }

  /** The agent a registration announces. */
  public static AgentInfo of(AgentReport.Registered r) {
    return new AgentInfo(r.agentId(), r.agent(), r.nodeAddress(), r.device(), r.backend(), r.tensorParallel(),
        r.parallelism());
  }

  /** Whether its replica is what {@code layout} loads: the same number of devices, split the same way. */
  public boolean serves(ParallelLayout layout) {
    return tensorParallel == layout.tensorParallel() && (tensorParallel == 1 || parallelism == layout.parallelism());
  }
}
