package io.decodefleet.coordinator.metrics;

import java.util.Objects;

/**
 * What one agent contributed to the completed requests of a run.
 *
 * @param agentId the agent's id
 * @param requests completed requests whose final token this agent produced
 * @param outputTokens tokens of completed requests that this agent produced (a migrated request's
 *     tokens are split between the agents that produced them)
 */
public record AgentStats(String agentId, int requests, long outputTokens) {
  public AgentStats {
    Objects.requireNonNull(agentId, "agentId");
  }
}
