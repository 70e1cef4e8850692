package io.decodefleet.agent.engine.kv;

/**
 * A drained sequence whose KV the agent holds for a KV transfer: its first {@code
 * numComputedTokens} positions, every token so far but the last sampled one (whose K/V the next
 * agent computes).
 */
public record HeldKv(long sequenceId, int numComputedTokens) {}
