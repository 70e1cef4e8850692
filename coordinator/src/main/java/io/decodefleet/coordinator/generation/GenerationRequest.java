package io.decodefleet.coordinator.generation;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import java.util.List;

/**
 * One request to generate, as every API hands it to the fleet (gRPC Generate, HTTP completions and
 * chat completions): the prompt in token ids, how many tokens at most, how to pick them, and the
 * strings that end the text. Built by {@link GenerationFields}, which checks every field.
 *
 * @param promptTokens (promptLen) token ids, special tokens included
 * @param maxTokens output tokens at most
 * @param sampling how tokens are picked; its stop ids include the model's EOS unless ignored
 * @param stopStrings texts that end the output where they first appear (not included in it)
 * @param skipSpecialTokens whether special tokens are left out of the output text
 */
public record GenerationRequest(int[] promptTokens, int maxTokens, SamplingParams sampling, List<String> stopStrings,
    boolean skipSpecialTokens) {

  public GenerationRequest {
    promptTokens = promptTokens.clone();
    stopStrings = List.copyOf(stopStrings);
  }
}
