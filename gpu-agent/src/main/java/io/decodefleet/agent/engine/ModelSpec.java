package io.decodefleet.agent.engine;

/**
 * What an agent loads and how its engine runs it, as the engine takes it and the wire carries it
 * (LoadModel).
 *
 * @param model preset name (see ModelConfig.presetNames())
 * @param seed dummy-weight seed
 * @param blockSize KV block size in tokens
 * @param kvBlocks KV pool size in blocks; 0 sizes it from the backend's memory
 * @param maxNumSeqs continuous-batching cap; 0 takes the backend's default ({@link Backend#defaultMaxNumSeqs})
 * @param maxBatchedTokens per-step token budget; 0 takes the backend's default ({@link
 *     Backend#defaultMaxBatchedTokens})
 * @param verifyFraction fraction of sequences checked against a full recompute (0 = off)
 */
public record ModelSpec(String model, long seed, int blockSize, int kvBlocks, int maxNumSeqs, int maxBatchedTokens,
    double verifyFraction) {}
