package io.decodefleet.coordinator.placement;

/**
 * What the coordinator knows of one agent when it places a request.
 *
 * @param index the agent's position in the run (0-based)
 * @param kvBlocks the agent's KV pool size in blocks
 * @param blockSize tokens per block
 * @param reservedBlocks blocks the agent's unfinished sequences will hold at their longest
 * @param inFlight unfinished sequences placed on the agent
 * @param cachedPrefixBlocks leading blocks of the request's prompt the agent holds in its prefix cache
 *     (0 unless the policy asks for them: {@link PlacementPolicy#readsPrefixCaches})
 */
public record AgentLoad(String agentId, int index, int kvBlocks, int blockSize, long reservedBlocks, int inFlight,
    int cachedPrefixBlocks) {

  public AgentLoad(String agentId, int index, int kvBlocks, int blockSize, long reservedBlocks, int inFlight) {
    this(agentId, index, kvBlocks, blockSize, reservedBlocks, inFlight, 0);
  }

  public long projectedFreeBlocks() {
    return kvBlocks - reservedBlocks;
  }
}
