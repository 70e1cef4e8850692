package io.decodefleet.coordinator.metrics;

/**
 * One agent of a run as report.json's "agents" describes it beside its request and token counts.
 *
 * @param node the agent's cluster node address
 * @param alive whether it was still in the cluster at the run's end
 * @param kvBlocks KV blocks of its pool; {@code blockSize} tokens each
 * @param load what its backend said of its load (GEMM dispatch, graphs, ...); empty if nothing
 */
public record AgentDescription(String agentId, String device, String backend, String node, boolean alive,
    int kvBlocks, int blockSize, String load) {}
