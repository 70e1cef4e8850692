package io.decodefleet.coordinator.generation;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.coordinator.admission.LengthLimit;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The generation fields of a request as the client gave them (null: not given), and the one place
 * they are checked and defaulted for every API. Defaults: greedy (temperature 0), top_p 1, no
 * top-k, a random seed, EOS ends the output, no min tokens, max tokens
 * {@code min(defaultMaxTokens, room the length limit leaves)}. A request whose prompt + max tokens
 * exceeds the {@link LengthLimit} (the model's context, the largest agent's KV pool) is refused, never
 * cut.
 *
 * @param topK 0 or -1: no top-k cut (vLLM's -1 is accepted)
 * @param stop stop strings: the output text ends before the first one found
 */
public record GenerationFields(Integer maxTokens, Double temperature, Double topP, Integer topK, Long seed,
    List<Integer> stopTokenIds, Boolean ignoreEos, Integer minTokens, List<String> stop, Boolean skipSpecialTokens) {

  /** Stop strings a request may give at most. */
  public static final int MAX_STOP_STRINGS = 16;

  private static final SecureRandom SEEDS = new SecureRandom();

  /** No field given: every default. */
  public static final GenerationFields DEFAULTS =
      new GenerationFields(null, null, null, null, null, null, null, null, null, null);

  /**
   * @param prompt the prompt's token ids, special tokens included
   * @throws InvalidField naming the first field that cannot be served
   */
  public GenerationRequest toRequest(int[] prompt, ModelLimits limits) {
    if (prompt.length == 0) throw new InvalidField("prompt", "the prompt is empty");
    for (int i = 0; i < prompt.length; i++) {
      if (prompt[i] < 0 || prompt[i] >= limits.vocabSize()) {
        throw new InvalidField("prompt", "token " + prompt[i] + " at index " + i + " is outside the vocabulary [0, "
            + limits.vocabSize() + ")");
      }
    }
    checkPromptLength(prompt.length, maxTokens, limits);
    LengthLimit length = limits.length();
    int max;
    if (maxTokens == null) {
      max = (int) Math.min(limits.defaultMaxTokens(), length.room(prompt.length));
    } else if (maxTokens < 1) {
      throw new InvalidField("max_tokens", "must be >= 1, got " + maxTokens);
    } else if (length.excess(prompt.length, maxTokens) != null) {
      throw new InvalidField("max_tokens", length.excess(prompt.length, maxTokens));
    } else {
      max = maxTokens;
    }
    if (minTokens != null && minTokens > max) {
      throw new InvalidField("min_tokens", "must be <= max_tokens (" + max + "), got " + minTokens);
    }
    float t = number("temperature", temperature, 0.0);
    float p = number("top_p", topP, 1.0);
    int k = topK == null || topK == -1 ? 0 : topK;
    List<Integer> stops = new ArrayList<>(stopTokenIds == null ? List.of() : stopTokenIds);
    if (!Boolean.TRUE.equals(ignoreEos)) IntStream.of(limits.eosTokenIds()).forEach(stops::add);
    SamplingParams sampling = new SamplingParams(t, p, k, seed != null ? seed : SEEDS.nextLong(),
        stops.stream().mapToInt(Integer::intValue).toArray(), minTokens == null ? 0 : minTokens);
    List<String> problems = sampling.problems(limits.vocabSize());
    if (!problems.isEmpty()) {
      String first = problems.get(0);
      throw new InvalidField(first.substring(0, first.indexOf(':')), first.substring(first.indexOf(':') + 2));
    }
    List<String> stopStrings = stop == null ? List.of() : stop;
    if (stopStrings.size() > MAX_STOP_STRINGS) {
      throw new InvalidField("stop", "at most " + MAX_STOP_STRINGS + " stop strings, got " + stopStrings.size());
    }
    for (String s : stopStrings) {
      if (s == null || s.isEmpty()) throw new InvalidField("stop", "a stop string must not be empty");
    }
    return new GenerationRequest(prompt, max, sampling, stopStrings, skipSpecialTokens == null || skipSpecialTokens);
  }

  /**
   * Refuses a prompt of {@code promptTokens} tokens that leaves no room for output under the {@link
   * LengthLimit} (the model's context, the largest agent's KV pool); an API that makes up a prompt of a
   * requested length asks this before allocating it.
   *
   * @param maxTokens the max tokens the request asks for (null or below 1: one), named in the message
   * @throws InvalidField naming {@code prompt}
   */
  public static void checkPromptLength(long promptTokens, Integer maxTokens, ModelLimits limits) {
    LengthLimit length = limits.length();
    if (length.promptAloneExceeds(promptTokens)) {
      throw new InvalidField("prompt", length.excess(promptTokens, maxTokens == null || maxTokens < 1 ? 1 : maxTokens));
    }
  }

  private static float number(String field, Double value, double otherwise) {
    double v = value == null ? otherwise : value;
    if (Double.isNaN(v) || Double.isInfinite(v)) throw new InvalidField(field, "must be a finite number, got " + v);
    return (float) v;
  }
}
