package io.decodefleet.coordinator;

import java.util.Arrays;
import org.apache.pekko.actor.typed.ActorRef;

/** A sequence the coordinator has placed and not yet seen finish: enough to re-place it anywhere. */
final class InFlightSequence {
  final long globalId;
  final long requestId;
  final int[] prompt; // (promptLen) token ids as submitted
  final int maxTokens;
  final int worldSize;
  final String placement;
  final ActorRef<SequenceEvent> subscriber;
  private int[] generated = new int[16]; // (numGenerated) token ids produced so far
  private int numGenerated;
  FleetAgent agent;
  int migrations;
  /** KV tokens reserved for it on {@code agent}: prompt + max output, or less on a prefill agent. */
  int reservedTokens;
  /** Output tokens it had when placed on {@code agent}: those are part of the prompt there. */
  int generatedAtPlacement;

  InFlightSequence(long globalId, long requestId, int[] prompt, int maxTokens, int worldSize, String placement,
      ActorRef<SequenceEvent> subscriber) {
    this.globalId = globalId;
    this.requestId = requestId;
    this.prompt = prompt;
    this.maxTokens = maxTokens;
    this.worldSize = worldSize;
    this.placement = placement;
    this.subscriber = subscriber;
  }

  /** Prompt + max output: the most KV this sequence can ever need. */
  int totalTokens() {
    return prompt.length + maxTokens;
  }

  int numGenerated() {
    return numGenerated;
  }

  void append(int[] tokens) {
    if (numGenerated + tokens.length > generated.length) {
      generated = Arrays.copyOf(generated, Math.max(generated.length * 2, numGenerated + tokens.length));
    }
    System.arraycopy(tokens, 0, generated, numGenerated, tokens.length);
    numGenerated += tokens.length;
  }

  /** What an agent must prefill to continue this sequence: the prompt and every token so far. */
  int[] continuationPrompt() {
    int[] out = Arrays.copyOf(prompt, prompt.length + numGenerated);
    System.arraycopy(generated, 0, out, prompt.length, numGenerated);
    return out;
  }

  int remainingTokens() {
    return maxTokens - numGenerated;
  }
}
