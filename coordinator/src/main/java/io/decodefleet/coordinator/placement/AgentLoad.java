package io.decodefleet.coordinator.placement;

/**
 * What the coordinator knows of one agent when it places a request.
 *
 * @param index the agent's position in the run (0-based)
 * @param kvBlocks the agent's KV pool size in blocks
 * @param blockSize tokens per block
 * @param reservedBlocks blocks the agent's unfinished sequences will hold at their longest
 * @param inFlight unfinished sequences placed on the agent
 */
public record AgentLoad(String agentId, int index, int kvBlocks, int blockSize, long reservedBlocks, int inFlight) {
  public long projectedFreeBlocks() {
    return kvBlocks - reservedBlocks;
  }
}
