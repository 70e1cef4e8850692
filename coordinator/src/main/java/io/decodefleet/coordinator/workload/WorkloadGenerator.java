package io.decodefleet.coordinator.workload;

import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.admission.OverlengthPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Synthetic benchmark requests: random token ids, lengths from two distributions, release times
 * from an arrival process, optionally shared prompt prefixes and multi-turn conversations. Seeded:
 * the same arguments give the same requests (and, with greedy decoding, the same output tokens).
 *
 * <p>Lengths are drawn first and judged against the {@link LengthLimit} before any token is drawn
 * (a long tail's draw is never materialised only to be refused); a request over it is refused or left
 * out as the {@link OverlengthPolicy} says, never cut to fit.
 */
public final class WorkloadGenerator {
  private WorkloadGenerator() {}

  /**
   * Generates {@code numRequests} requests with ids 0..n-1 in arrival order, each checked against a
   * context of {@code maxContext} tokens: one over it is an IllegalArgumentException naming it, never cut.
   *
   * <p>Arrivals, lengths and token ids each draw from their own stream split off {@code seed}, so
   * changing the arrival process leaves the prompts as they were.
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
   * {@code promptLen} is then the length of what follows the prefix.
   */
  public static List<RequestSpec> generate(int numRequests, ArrivalProcess arrivals, LengthDistribution promptLen,
      LengthDistribution outputLen, SharedPrefixes prefixes, int vocabSize, int maxContext, long seed) {
    if (numRequests < 0) throw new IllegalArgumentException("number of requests must be >= 0, got " + numRequests);
    if (numRequests == 0) return List.of();
    try {
      return draw(new WorkloadSpec(numRequests, promptLen, outputLen, arrivals, 0, prefixes, 1), vocabSize,
          LengthLimit.context(null, maxContext), OverlengthPolicy.ERROR,
          (r, turn, conversation, prompt) -> new OverlengthScreen.Origin(OverlengthException.Setting.PROMPT_LEN,
              "request " + r.requestId()), seed).requests();
    } catch (OverlengthException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** One request's lengths, drawn before its tokens. */
  private record Shape(long requestId, long arrivalNanos, int prefix, int ownTokens, int promptLength, int maxTokens,
      long previousTurn) implements OverlengthScreen.Sized {}

  /**
   * The requests of {@code spec}: its first turns with ids 0..n-1 in arrival order, then its
   * conversations' later turns (see {@link #drawTurns}), those over {@code limit} refused or left out.
   * Kept requests draw their tokens in order; a request left out draws none.
   */
  static Workload draw(WorkloadSpec spec, int vocabSize, LengthLimit limit, OverlengthPolicy policy,
      OverlengthScreen.Namer namer, long seed) throws OverlengthException {
    if (vocabSize < 1) throw new IllegalArgumentException("vocab size must be >= 1, got " + vocabSize);
    SplittableRandom root = new SplittableRandom(seed);
    SplittableRandom arrivalRng = root.split();
    SplittableRandom lengthRng = root.split();
    SplittableRandom tokenRng = root.split();
    // Split last, so the streams above are those of a workload without prefixes.
    SplittableRandom prefixRng = root.split();
    List<int[]> shared = spec.prefixes().draw(vocabSize, prefixRng);

    int n = spec.numRequests();
    long[] offsets = spec.arrivals().offsetsNanos(n, arrivalRng);
    List<Shape> shapes = new ArrayList<>(n * spec.turns());
    for (int i = 0; i < n; i++) {
      int prefix = shared.isEmpty() ? -1 : prefixRng.nextInt(shared.size());
      int own = spec.promptLen().sample(lengthRng);
      int output = spec.outputLen().sample(lengthRng);
      int prefixLength = prefix < 0 ? 0 : shared.get(prefix).length;
      shapes.add(new Shape(i, offsets[i], prefix, own, (int) Math.min(Integer.MAX_VALUE, (long) prefixLength + own),
          output, -1));
    }
    // Turns draw from streams of their own, so a workload's first turns do not depend on --turns.
    SplittableRandom turns = new SplittableRandom(seed ^ 0x7475726e73L);
    SplittableRandom turnLengthRng = turns.split();
    SplittableRandom turnTokenRng = turns.split();
    drawTurns(shapes, spec, turnLengthRng);

    OverlengthScreen.Screened<Shape> screened = OverlengthScreen.screen(shapes, limit, policy, namer);
    List<RequestSpec> requests = new ArrayList<>(screened.kept().size());
    for (Shape s : screened.kept()) {
      if (s.previousTurn() >= 0) {
        requests.add(new RequestSpec(s.requestId(), s.arrivalNanos(), randomTokens(s.ownTokens(), vocabSize,
            turnTokenRng), s.maxTokens(), s.previousTurn()));
        continue;
      }
      int[] prefix = s.prefix() < 0 ? new int[0] : shared.get(s.prefix());
      int[] tokens = java.util.Arrays.copyOf(prefix, s.promptLength());
      System.arraycopy(randomTokens(s.ownTokens(), vocabSize, tokenRng), 0, tokens, prefix.length, s.ownTokens());
      requests.add(new RequestSpec(s.requestId(), s.arrivalNanos(), tokens, s.maxTokens()));
    }
    return new Workload(requests, screened.skipped(), shapes.size());
  }

  /**
   * Multi-turn conversations: each first turn opens a conversation of {@code spec.turns()} turns;
   * turn k ≥ 2 is a new message of {@code promptLen} tokens with an output of {@code outputLen},
   * released when turn k − 1 finishes, its prompt being everything so far (every earlier prompt and
   * output) then the message. Ids: the first turns keep theirs; later turns follow after the last of them.
   */
  private static void drawTurns(List<Shape> shapes, WorkloadSpec spec, SplittableRandom lengthRng) {
    List<Shape> firstTurns = List.copyOf(shapes);
    long nextId = firstTurns.size();
    for (Shape first : firstTurns) {
      long previous = first.requestId();
      for (int k = 2; k <= spec.turns(); k++) {
        int message = spec.promptLen().sample(lengthRng);
        int output = spec.outputLen().sample(lengthRng);
        Shape turn = new Shape(nextId++, first.arrivalNanos(), -1, message, message, output, previous);
        shapes.add(turn);
        previous = turn.requestId();
      }
    }
  }

  /** @return {@code int[length]} token ids in [0, vocabSize) */
  static int[] randomTokens(int length, int vocabSize, RandomGenerator rng) {
    int[] tokens = new int[length];
    for (int t = 0; t < length; t++) tokens[t] = rng.nextInt(vocabSize);
    return tokens;
  }
}
