package io.decodefleet.agent.engine.sampling;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How one sequence picks its tokens and when it stops early, as the engine takes it and the wire
 * carries it. The fields mean what they mean in vLLM's {@code SamplingParams}.
 *
 * <p>Sampling: {@code temperature} 0 is greedy (the arg-max, ties to the lowest id); above 0 the
 * logits are divided by it, cut to the {@code topK} largest (0: no cut) and then to the smallest set
 * of largest-probability tokens whose mass reaches {@code topP} (1: no cut), and one token is drawn
 * from what is left. The draw is a function of ({@code seed}, the position being sampled) only — a
 * counter-based random number — so the CPU and GPU backends draw the same token for the same seed,
 * and a sequence continued on another agent draws as it would have where it started.
 *
 * <p>Stopping: a sampled token in {@code stopTokenIds} ends the sequence (finish reason "stop"),
 * but only once it has at least {@code minTokens} output tokens (counting that one). The model's
 * end-of-sequence ids are among the stop ids unless the request ignores EOS: whoever builds the
 * params (the API, knowing the tokenizer) puts them there, the engine knows no EOS of its own.
 *
 * @param stopTokenIds ids that end the sequence, sorted, without duplicates
 */
public record SamplingParams(float temperature, float topP, int topK, long seed, int[] stopTokenIds, int minTokens) {

  /** Greedy, no stop tokens: every benchmark request generates exactly its max tokens. */
  public static final SamplingParams GREEDY = new SamplingParams(0f, 1f, 0, 0L, new int[0], 0);

  public SamplingParams {
    stopTokenIds = Arrays.stream(stopTokenIds).sorted().distinct().toArray();
  }

  /** Whether the token is simply the arg-max (temperature 0, or only one token kept by top-k). */
  public boolean greedy() {
    return temperature == 0f || topK == 1;
  }

  /** Whether sampling {@code token} as output token number {@code outputCount} (1-based) ends the sequence. */
  public boolean stopsAt(int token, int outputCount) {
    return outputCount >= minTokens && Arrays.binarySearch(stopTokenIds, token) >= 0;
  }

  /**
   * The same params for a sequence continued after {@code generated} of its output tokens (a
   * migration or re-placement re-prefills them as prompt): min tokens counts from there.
   */
  public SamplingParams afterGenerated(int generated) {
    return generated == 0 || minTokens == 0 ? this
        : new SamplingParams(temperature, topP, topK, seed, stopTokenIds, Math.max(0, minTokens - generated));
  }

  /**
   * What is wrong with these params for a model of {@code vocabSize} tokens, each problem starting
   * with the request field's name ("temperature: ..."); empty when they are valid.
   */
  public List<String> problems(int vocabSize) {
    List<String> problems = new ArrayList<>();
    if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
      problems.add("temperature: must be a finite number >= 0 (0: greedy), got " + temperature);
    }
    if (!(topP > 0f && topP <= 1f)) problems.add("top_p: must be in (0, 1], got " + topP);
    if (topK < 0) problems.add("top_k: must be >= 0 (0 or -1: no top-k cut), got " + topK);
    if (minTokens < 0) problems.add("min_tokens: must be >= 0, got " + minTokens);
    for (int t : stopTokenIds) {
      if (t < 0 || t >= vocabSize) {
        problems.add("stop_token_ids: token " + t + " is outside the vocabulary [0, " + vocabSize + ")");
        break;
      }
    }
    return problems;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SamplingParams p && Float.compare(p.temperature, temperature) == 0
        && Float.compare(p.topP, topP) == 0 && p.topK == topK && p.seed == seed && p.minTokens == minTokens
        && Arrays.equals(p.stopTokenIds, stopTokenIds);
  }

  @Override
  public int hashCode() {
    return Float.hashCode(temperature) * 31 + Long.hashCode(seed) + Arrays.hashCode(stopTokenIds) * 17 + topK;
  }

  @Override
  public String toString() {
    return greedy() && stopTokenIds.length == 0 ? "greedy"
        : "SamplingParams[temperature " + temperature + ", top_p " + topP + ", top_k " + topK + ", seed " + seed
            + ", stop " + Arrays.toString(stopTokenIds) + ", min_tokens " + minTokens + "]";
  }
}
