package io.decodefleet.agent.protocol;

import org.apache.pekko.actor.typed.ActorRef;

/** Reports as tests build them, with the fields an older agent would leave out. */
public final class AgentReportFixtures {
  private AgentReportFixtures() {}

  /** A single-device agent (no tensor parallelism). */
  public static AgentReport.Registered registered(String agentId, ActorRef<AgentCommand> agent, String nodeAddress,
      String device, String backend) {
    return new AgentReport.Registered(agentId, agent, nodeAddress, device, backend, 1);
  }

  /** An agent that says nothing of KV transfer: taken as unable to. */
  public static AgentReport.ModelLoaded modelLoaded(String agentId, int kvBlocks, int blockSize, int maxNumSeqs,
      int maxModelLen, long loadMillis) {
    return new AgentReport.ModelLoaded(agentId, kvBlocks, blockSize, maxNumSeqs, maxModelLen, loadMillis,
        "not reported", "", "");
  }
}
