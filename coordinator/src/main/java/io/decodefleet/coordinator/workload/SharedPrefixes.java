package io.decodefleet.coordinator.workload;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Shared prompt prefixes, as SGLang's generated-shared-prefix benchmark has them (a system prompt or
 * a document that many questions share): {@code count} random prefixes of {@code length} tokens; each
 * request starts with one of them, drawn uniformly, then its own tokens. {@link #NONE} shares nothing.
 */
public record SharedPrefixes(int count, int length) {
  public static final SharedPrefixes NONE = new SharedPrefixes(0, 0);

  public SharedPrefixes {
    if (count < 0) throw new IllegalArgumentException("the number of prefixes must be >= 0, got " + count);
    if (length < 0) throw new IllegalArgumentException("the prefix length must be >= 0, got " + length);
    if ((count == 0) != (length == 0)) {
      throw new IllegalArgumentException("give both a number of prefixes and a prefix length, or neither");
    }
  }

  public boolean none() {
    return count == 0;
  }

  /** The prefixes' tokens, drawn from {@code rng}: (count) arrays of (length) ids in [0, vocabSize). */
  List<int[]> draw(int vocabSize, SplittableRandom rng) {
    return java.util.stream.IntStream.range(0, count)
        .mapToObj(i -> WorkloadGenerator.randomTokens(length, vocabSize, rng)).toList();
  }
}
