package io.decodefleet.coordinator.workload;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Synthetic benchmark requests: random token ids, lengths from two distributions, release times
 * from an arrival process. Seeded: the same arguments give the same requests (and, with greedy
 * decoding, the same output tokens).
 */
public final class WorkloadGenerator {
  private WorkloadGenerator() {}

  /**
   * Generates {@code numRequests} requests with ids 0..n-1 in arrival order.
   *
   * <p>Arrivals, lengths and token ids each draw from their own stream split off {@code seed}, so
   * changing the arrival process leaves the prompts as they were. Lengths are clamped to the context
   * window: prompt ≤ maxContext − 1, prompt + output ≤ maxContext, output ≥ 1.
   *
   * @param vocabSize token ids are drawn uniformly from [0, vocabSize)
   * @param maxContext the model's context window in tokens (≥ 2: one prompt and one output token)
   */
  public static List<RequestSpec> generate(int numRequests, ArrivalProcess arrivals, LengthDistribution promptLen,
      LengthDistribution outputLen, int vocabSize, int maxContext, long seed) {
    return generate(numRequests, arrivals, promptLen, outputLen, SharedPrefixes.NONE, vocabSize, maxContext, seed);
  }

  /**
   * As {@link #generate(int, ArrivalProcess, LengthDistribution, LengthDistribution, int, int, long)},
   * each prompt starting with one of the shared prefixes (drawn uniformly, from a stream of its own);
   * {@code promptLen} is then the length of what follows the prefix. A prefix too long for the
   * context window is an IllegalArgumentException, never cut.
   */
  public static List<RequestSpec> generate(int numRequests, ArrivalProcess arrivals, LengthDistribution promptLen,
      LengthDistribution outputLen, SharedPrefixes prefixes, int vocabSize, int maxContext, long seed) {
    if (numRequests < 0) throw new IllegalArgumentException("number of requests must be >= 0, got " + numRequests);
    requireVocabAndContext(vocabSize, maxContext);
    SplittableRandom root = new SplittableRandom(seed);
    SplittableRandom arrivalRng = root.split();
    SplittableRandom lengthRng = root.split();
    SplittableRandom tokenRng = root.split();
    if (prefixes.length() >= maxContext - 1) {
      throw new IllegalArgumentException("a shared prefix of " + prefixes.length() + " tokens leaves no room in the "
          + maxContext + "-token context for a prompt of its own and an output");
    }
    // Split last, so the streams above are those of a workload without prefixes.
    SplittableRandom prefixRng = root.split();
    List<int[]> shared = prefixes.draw(vocabSize, prefixRng);

    long[] offsets = arrivals.offsetsNanos(numRequests, arrivalRng);
    List<RequestSpec> requests = new ArrayList<>(numRequests);
    for (int i = 0; i < numRequests; i++) {
      int[] prefix = shared.isEmpty() ? new int[0] : shared.get(prefixRng.nextInt(shared.size()));
      int own = Math.max(1, clampPrompt(prefix.length + promptLen.sample(lengthRng), maxContext) - prefix.length);
      int prompt = prefix.length + own;
      int output = clampOutput(outputLen.sample(lengthRng), prompt, maxContext);
      int[] tokens = java.util.Arrays.copyOf(prefix, prompt);
      System.arraycopy(randomTokens(own, vocabSize, tokenRng), 0, tokens, prefix.length, own);
      requests.add(new RequestSpec(i, offsets[i], tokens, output));
    }
    return requests;
  }

  static void requireVocabAndContext(int vocabSize, int maxContext) {
    if (vocabSize < 1) throw new IllegalArgumentException("vocab size must be >= 1, got " + vocabSize);
    if (maxContext < 2) throw new IllegalArgumentException("max context must be >= 2 tokens, got " + maxContext);
  }

  /**
   * Multi-turn conversations: each of {@code firstTurns} opens a conversation of {@code turns} turns;
   * turn k ≥ 2 is a new message of {@code promptLen} tokens (drawn like a prompt) with an output of
   * {@code outputLen}, released when turn k − 1 finishes, its prompt being everything so far (every
   * earlier prompt and output) then the message. Ids: the conversations' first turns keep theirs;
   * later turns follow after the last of them. A conversation that would outgrow the context window
   * is an IllegalArgumentException, never cut.
   */
  public static List<RequestSpec> withConversations(List<RequestSpec> firstTurns, int turns,
      LengthDistribution promptLen, LengthDistribution outputLen, int vocabSize, int maxContext, long seed) {
    if (turns < 1) throw new IllegalArgumentException("turns must be >= 1, got " + turns);
    if (turns == 1) return firstTurns;
    SplittableRandom root = new SplittableRandom(seed ^ 0x7475726e73L); // streams of their own
    SplittableRandom lengthRng = root.split();
    SplittableRandom tokenRng = root.split();
    List<RequestSpec> out = new ArrayList<>(firstTurns);
    long nextId = firstTurns.stream().mapToLong(RequestSpec::requestId).max().orElse(-1) + 1;
    for (RequestSpec first : firstTurns) {
      long previous = first.requestId();
      int total = first.promptTokens().length + first.maxTokens();
      for (int k = 2; k <= turns; k++) {
        int message = promptLen.sample(lengthRng);
        int output = outputLen.sample(lengthRng);
        total += message + output;
        if (total > maxContext) {
          throw new IllegalArgumentException("conversation " + first.requestId() + " needs " + total + " tokens by turn "
              + k + " of " + turns + "; the model's context holds " + maxContext
              + ": lower the turns, prompt length or output length");
        }
        RequestSpec turn = new RequestSpec(nextId++, first.arrivalNanos(), randomTokens(message, vocabSize, tokenRng),
            output, previous);
        out.add(turn);
        previous = turn.requestId();
      }
    }
    return out;
  }

  /** A prompt leaves room for at least one output token. */
  static int clampPrompt(int promptLen, int maxContext) {
    return Math.min(promptLen, maxContext - 1);
  }

  /** Output fills at most the rest of the window; {@code promptLen ≤ maxContext - 1} keeps it ≥ 1. */
  static int clampOutput(int outputLen, int promptLen, int maxContext) {
    return Math.min(outputLen, maxContext - promptLen);
  }

  /** @return {@code int[length]} token ids in [0, vocabSize) */
  static int[] randomTokens(int length, int vocabSize, RandomGenerator rng) {
    int[] tokens = new int[length];
    for (int t = 0; t < length; t++) tokens[t] = rng.nextInt(vocabSize);
    return tokens;
  }
}
