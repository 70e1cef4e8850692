package io.decodefleet.coordinator.fleet;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import java.util.Arrays;
import org.apache.pekko.actor.typed.ActorRef;

/** A sequence the coordinator has placed and not yet seen finish: enough to re-place it anywhere. */
public final class InFlightSequence {
  public final long globalId;
  final long requestId;
  public final int[] prompt; // (promptLen) token ids as submitted
  public final int maxTokens;
  /** As submitted: a continuation gets {@code sampling.afterGenerated(tokens so far)}. */
  public final SamplingParams sampling;
  public final int worldSize;
  final String placement;
  final ActorRef<SequenceEvent> subscriber;
  private int[] generated = new int[16]; // (numGenerated) token ids produced so far
  private int numGenerated;
  public FleetAgent agent;
  int migrations;
  /** KV tokens reserved for it on {@code agent}: prompt + max output, or less on a prefill agent. */
  public int reservedTokens;
  /** Output tokens it had when placed on {@code agent}: those are part of the prompt there. */
  public int generatedAtPlacement;

  public InFlightSequence(long globalId, long requestId, int[] prompt, int maxTokens, SamplingParams sampling,
      int worldSize, String placement, ActorRef<SequenceEvent> subscriber) {
    this.sampling = sampling;
    this.globalId = globalId;
    this.requestId = requestId;
    this.prompt = prompt;
    this.maxTokens = maxTokens;
    this.worldSize = worldSize;
    this.placement = placement;
    this.subscriber = subscriber;
  }

  /** Prompt + max output: the most KV this sequence can ever need. */
  public int totalTokens() {
    return prompt.length + maxTokens;
  }

  /** KV tokens a prefill agent reserves for it: its prompt so far and the first token. */
  public int prefillTokens() {
    return prompt.length + numGenerated + 1;
  }

  public int numGenerated() {
    return numGenerated;
  }

  public void append(int[] tokens) {
    if (numGenerated + tokens.length > generated.length) {
      generated = Arrays.copyOf(generated, Math.max(generated.length * 2, numGenerated + tokens.length));
    }
    System.arraycopy(tokens, 0, generated, numGenerated, tokens.length);
    numGenerated += tokens.length;
  }

  /** What an agent must prefill to continue this sequence: the prompt and every token so far. */
  public int[] continuationPrompt() {
    int[] out = Arrays.copyOf(prompt, prompt.length + numGenerated);
    System.arraycopy(generated, 0, out, prompt.length, numGenerated);
    return out;
  }

  /** Whether {@code subscriber}'s request {@code requestId} is this sequence. */
  boolean isRequest(long requestId, ActorRef<SequenceEvent> subscriber) {
    return this.requestId == requestId && this.subscriber.equals(subscriber);
  }

  int remainingTokens() {
    return maxTokens - numGenerated;
  }
}
