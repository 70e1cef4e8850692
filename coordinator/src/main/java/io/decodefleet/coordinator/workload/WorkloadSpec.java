package io.decodefleet.coordinator.workload;

import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.admission.OverlengthPolicy;
import io.decodefleet.coordinator.workload.OverlengthException.Setting;
import java.util.OptionalInt;

/**
 * A generated benchmark workload as the CLI and the gRPC API both give it: how many requests, their
 * prompt and output lengths, when they arrive and how many may be outstanding. The defaults of each
 * are defined here once; the CLI's flags and the API's empty fields fall back to them.
 *
 * @param numRequests requests to generate, at least 1
 * @param maxConcurrency most requests outstanding at once (closed loop); 0 = unlimited
 * @param prefixes prompt prefixes the requests share ({@link SharedPrefixes#NONE}: none); {@code
 *     promptLen} is then the length after the prefix
 * @param turns turns of each conversation (1: every request stands alone; turn k ≥ 2 is a new message
 *     released when turn k − 1 finishes, its prompt every earlier prompt and output then the message);
 *     numRequests counts conversations
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
   * The requests, in release order; the same seed gives the same requests. Each must fit {@code limit}:
   * a bounded distribution's longest draw is checked before any request is drawn (refused whatever the
   * policy: every workload with that setting could draw it); a draw from an unbounded one (the
   * log-normal's tail), or a conversation's turn, is judged as drawn, under {@code policy}.
   *
   * @param vocabSize token ids are drawn from [0, vocabSize)
   * @throws OverlengthException naming the setting and, for a draw, the request over the limit
   */
  public Workload requests(int vocabSize, LengthLimit limit, OverlengthPolicy policy, long seed)
      throws OverlengthException {
    checkLongest(limit);
    return WorkloadGenerator.draw(this, vocabSize, limit, policy, (r, turn, conversation, prompt) -> turn > 1
        ? new OverlengthScreen.Origin(Setting.TURNS, "turn " + turn + " of conversation " + conversation)
        : new OverlengthScreen.Origin(promptLen.longest().isEmpty() && (outputLen.longest().isPresent()
            || limit.promptAloneExceeds(prompt)) ? Setting.PROMPT_LEN : Setting.OUTPUT_LEN, "request "
            + r.requestId()), seed);
  }

  /**
   * The longest request the bounded distributions can draw, against {@code limit}: its prompt (the
   * shared prefix, then the longest own prompt) and longest output, and with turns the last turn of
   * the longest conversation. An unbounded distribution counts its shortest draw here (1 token).
   */
  private void checkLongest(LengthLimit limit) throws OverlengthException {
    OptionalInt longestPrompt = promptLen.longest();
    OptionalInt longestOutput = outputLen.longest();
    if (!prefixes.none() && limit.promptAloneExceeds(prefixes.length() + 1L)) {
      throw new OverlengthException(Setting.PREFIX_LEN, limit.excess(prefixes.length() + 1L, 1), false);
    }
    long prompt = prefixes.length() + (long) longestPrompt.orElse(1);
    long output = longestOutput.orElse(1);
    String excess = limit.excess(prompt, output);
    if (excess != null && longestPrompt.isPresent() && limit.promptAloneExceeds(prompt)) {
      throw new OverlengthException(Setting.PROMPT_LEN, excess, false);
    }
    if (excess != null && longestOutput.isPresent()) throw new OverlengthException(Setting.OUTPUT_LEN, excess, false);
    if (turns > 1 && longestPrompt.isPresent() && longestOutput.isPresent()) {
      long lastPrompt = prompt + (turns - 1L) * (longestPrompt.getAsInt() + output);
      String last = limit.excess(lastPrompt, output);
      if (last != null) throw new OverlengthException(Setting.TURNS, "turn " + turns + " of a conversation: " + last, false);
    }
  }
}
