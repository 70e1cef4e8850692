package io.decodefleet.coordinator.workload;

import java.util.List;

/**
 * A generated benchmark workload as the CLI and the gRPC API both give it: how many requests, their
 * prompt and output lengths, when they arrive and how many may be outstanding. The defaults of each
 * are defined here once; the CLI's flags and the API's empty fields fall back to them.
 *
 * @param numRequests requests to generate, at least 1
 * @param maxConcurrency most requests outstanding at once (closed loop); 0 = unlimited
 * @param prefixes prompt prefixes the requests share ({@link SharedPrefixes#NONE}: none); {@code
 *     promptLen} is then the length after the prefix
 * @param turns turns of each conversation (1: every request stands alone; see {@link
 *     WorkloadGenerator#withConversations}); numRequests counts conversations
 */
public record WorkloadSpec(int numRequests, LengthDistribution promptLen, LengthDistribution outputLen,
    ArrivalProcess arrivals, int maxConcurrency, SharedPrefixes prefixes, int turns) {

  public WorkloadSpec(int numRequests, LengthDistribution promptLen, LengthDistribution outputLen,
      ArrivalProcess arrivals, int maxConcurrency) {
    this(numRequests, promptLen, outputLen, arrivals, maxConcurrency, SharedPrefixes.NONE, 1);
  }

  public WorkloadSpec(int numRequests, LengthDistribution promptLen, LengthDistribution outputLen,
      ArrivalProcess arrivals, int maxConcurrency, SharedPrefixes prefixes) {
    this(numRequests, promptLen, outputLen, arrivals, maxConcurrency, prefixes, 1);
  }

  /** Requests of a generated workload. */
  public static final int DEFAULT_NUM_REQUESTS = 64;
  /** Prompt tokens, uniform over a range: {@link LengthDistribution#parse} syntax. */
  public static final String DEFAULT_PROMPT_LEN = "32:256";
  /** Output tokens, uniform over a range. */
  public static final String DEFAULT_OUTPUT_LEN = "16:128";
  /** Gamma shape of the arrival gaps of a finite request rate: 1.0 is Poisson. */
  public static final double DEFAULT_BURSTINESS = 1.0;

  public WorkloadSpec {
    if (numRequests < 1) throw new IllegalArgumentException("must be >= 1, got " + numRequests);
    if (maxConcurrency < 0) throw new IllegalArgumentException("must be >= 0 (0: unlimited), got " + maxConcurrency);
    if (turns < 1) throw new IllegalArgumentException("turns must be >= 1, got " + turns);
  }

  /**
   * The requests, in release order; the same seed gives the same requests.
   *
   * @param vocabSize token ids are drawn from [0, vocabSize)
   * @param maxContext the model's context window in tokens
   */
  public List<RequestSpec> requests(int vocabSize, int maxContext, long seed) {
    List<RequestSpec> first = WorkloadGenerator.generate(numRequests, arrivals, promptLen, outputLen, prefixes,
        vocabSize, maxContext, seed);
    return WorkloadGenerator.withConversations(first, turns, promptLen, outputLen, vocabSize, maxContext, seed);
  }
}
