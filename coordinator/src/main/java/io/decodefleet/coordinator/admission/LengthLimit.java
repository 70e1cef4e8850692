package io.decodefleet.coordinator.admission;

/**
 * The one rule every entry (the CLI's workload flags, trace rows, gRPC Generate and RunBenchmark,
 * HTTP completions and chat completions) checks a request's length against: its prompt plus every
 * output token it may ask for must fit the model's context and, once the fleet is loaded, the KV pool
 * of the largest agent (a sequence longer than every pool could never run, however long it waited). A
 * request over the limit is refused or, where the user asked for it, left out and counted; never cut.
 *
 * @param model the model's name, as messages name it; null: "the model"
 * @param contextTokens prompt + output tokens the model's positions hold (its max position embeddings)
 * @param kvBlocks KV blocks of the largest agent's pool; 0 while the fleet's pools are not known (before
 *     it loads, or in client mode): then only the context is checked
 * @param blockSize tokens per KV block of that pool (0 when {@code kvBlocks} is)
 */
public record LengthLimit(String model, int contextTokens, int kvBlocks, int blockSize) {

  public LengthLimit {
    if (contextTokens < 2) throw new IllegalArgumentException("context must hold >= 2 tokens, got " + contextTokens);
    if (kvBlocks < 0) throw new IllegalArgumentException("KV blocks must be >= 0, got " + kvBlocks);
    if (kvBlocks > 0 && blockSize < 1) throw new IllegalArgumentException("block size must be >= 1, got " + blockSize);
  }

  /** The model's context alone: what is known before the fleet loads. */
  public static LengthLimit context(String model, int contextTokens) {
    return new LengthLimit(model, contextTokens, 0, 0);
  }

  /** The same model on a fleet whose largest agent's KV pool holds {@code kvBlocks} blocks of {@code blockSize} tokens. */
  public LengthLimit withKvPool(int kvBlocks, int blockSize) {
    return new LengthLimit(model, contextTokens, kvBlocks, blockSize);
  }

  /** Whether the fleet's KV pools are known (and checked). */
  public boolean knowsKvPool() {
    return kvBlocks > 0;
  }

  /** The most prompt + output tokens one sequence may have. */
  public long maxTokens() {
    return knowsKvPool() ? Math.min(contextTokens, (long) kvBlocks * blockSize) : contextTokens;
  }

  /** Output tokens a prompt of {@code promptTokens} leaves room for; 0 or less: none. */
  public long room(long promptTokens) {
    return maxTokens() - promptTokens;
  }

  /**
   * Why a prompt of {@code promptTokens} plus up to {@code outputTokens} output tokens cannot be served,
   * as one clause ("a 999999-token prompt plus up to 128 output tokens exceeds model tiny's context of
   * 2048 tokens"); null when it fits.
   */
  public String excess(long promptTokens, long outputTokens) {
    long total = promptTokens + outputTokens;
    String asked = "a " + promptTokens + "-token prompt plus " + (outputTokens == 1 ? "1 output token"
        : "up to " + outputTokens + " output tokens");
    if (total > contextTokens) {
      return asked + " exceeds " + (model == null ? "the model" : "model " + model) + "'s context of " + contextTokens
          + " tokens";
    }
    if (knowsKvPool() && total > (long) kvBlocks * blockSize) {
      return asked + " needs " + blocksFor(total) + " KV blocks of " + blockSize + " tokens; the largest agent's KV "
          + "pool holds " + kvBlocks;
    }
    return null;
  }

  /** Whether the prompt alone leaves no room for even one output token (the prompt is what is too long). */
  public boolean promptAloneExceeds(long promptTokens) {
    return room(promptTokens) < 1;
  }

  private long blocksFor(long tokens) {
    return (tokens + blockSize - 1) / blockSize;
  }
}
