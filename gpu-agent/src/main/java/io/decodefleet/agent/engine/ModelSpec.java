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
 * @param prefixCaching whether full KV blocks are cached by content and shared between sequences
 *     (AUTO: the backend's default, {@link Backend#defaultPrefixCaching})
 * @param profileSteps decode steps to run with every kernel family timed ({@link StepProfile}) at the
 *     start of each busy spell (the engine's work after it was idle, e.g. each benchmark run); 0: none
 */
public record ModelSpec(String model, long seed, int blockSize, int kvBlocks, int maxNumSeqs, int maxBatchedTokens,
    double verifyFraction, PrefixCaching prefixCaching, int profileSteps) {

  /** Automatic prefix caching: on, off, or as the backend chooses. */
  public enum PrefixCaching { AUTO, ON, OFF }

  public ModelSpec {
    if (profileSteps < 0) throw new IllegalArgumentException("profile steps must be >= 0, got " + profileSteps);
  }

  /** A spec that profiles no step. */
  public ModelSpec(String model, long seed, int blockSize, int kvBlocks, int maxNumSeqs, int maxBatchedTokens,
      double verifyFraction, PrefixCaching prefixCaching) {
    this(model, seed, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, verifyFraction, prefixCaching, 0);
  }

  /** A spec that leaves prefix caching to the backend. */
  public ModelSpec(String model, long seed, int blockSize, int kvBlocks, int maxNumSeqs, int maxBatchedTokens,
      double verifyFraction) {
    this(model, seed, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, verifyFraction, PrefixCaching.AUTO);
  }

  /** The same spec with prefix caching set. */
  public ModelSpec withPrefixCaching(PrefixCaching caching) {
    return new ModelSpec(model, seed, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, verifyFraction, caching,
        profileSteps);
  }

  /** The same spec, profiling {@code steps} decode steps of each busy spell. */
  public ModelSpec withProfileSteps(int steps) {
    return new ModelSpec(model, seed, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, verifyFraction, prefixCaching,
        steps);
  }
}
