package io.decodefleet.coordinator.generation;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

/** What every request an API decoder lets through must satisfy, whatever the client sent. */
public final class ServableRequests {
  private ServableRequests() {}

  /** Fails unless {@code r} can be placed on a fleet serving a model of {@code limits} as it stands. */
  public static void assertServable(GenerationRequest r, ModelLimits limits) {
    int[] prompt = r.promptTokens();
    assertTrue(prompt.length >= 1, "empty prompt");
    assertTrue(Arrays.stream(prompt).allMatch(t -> t >= 0 && t < limits.vocabSize()),
        "a prompt token outside the vocabulary");
    assertTrue(r.maxTokens() >= 1, "max tokens " + r.maxTokens());
    assertTrue((long) prompt.length + r.maxTokens() <= limits.length().maxTokens(),
        "prompt " + prompt.length + " + max tokens " + r.maxTokens() + " exceeds the length limit " + limits.length());
    assertTrue(r.sampling().problems(limits.vocabSize()).isEmpty(), r.sampling().problems(limits.vocabSize())::toString);
    assertTrue(r.sampling().minTokens() <= r.maxTokens(), "min tokens above max tokens");
    assertTrue(r.stopStrings().size() <= GenerationFields.MAX_STOP_STRINGS, "too many stop strings");
    assertFalse(r.stopStrings().stream().anyMatch(String::isEmpty), "an empty stop string");
  }
}
