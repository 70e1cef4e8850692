package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import java.util.List;

/**
 * What one engine step computes, vLLM-v1 style: sequences the runner has not seen (or lost through
 * preemption) in full, sequences it already holds as diffs, and the ids it must forget.
 *
 * @param newSequences sequences to (re)start: every known token and the whole block table
 * @param cachedSequences sequences the runner already holds: new blocks and this step's token count
 * @param totalScheduledTokens the sum of every sequence's scheduled tokens (≤ the token budget)
 * @param preemptedIds sequences preempted by recompute in this step (runner drops their state)
 * @param finishedIds sequences that finished in the previous step (runner drops their state)
 */
public record SchedulerOutput(
    List<NewSequence> newSequences,
    List<CachedSequence> cachedSequences,
    int totalScheduledTokens,
    List<Long> preemptedIds,
    List<Long> finishedIds) {

  /**
   * @param tokens prompt + generated tokens known now, (numTokens) token ids
   * @param blockIds the sequence's block table
   * @param numComputedTokens tokens already in the cache (0 for a new or resumed sequence)
   * @param numScheduledTokens tokens to compute this step, from position numComputedTokens on
   * @param sampling how its tokens are picked
   */
  public record NewSequence(long id, int[] tokens, int[] blockIds, int numComputedTokens, int numScheduledTokens,
      SamplingParams sampling) {
    public NewSequence(long id, int[] tokens, int[] blockIds, int numComputedTokens, int numScheduledTokens) {
      this(id, tokens, blockIds, numComputedTokens, numScheduledTokens, SamplingParams.GREEDY);
    }
  }

  /**
   * @param newBlockIds blocks appended to the sequence's table since the last step
   * @param numComputedTokens tokens already in the cache before this step
   * @param numScheduledTokens tokens to compute this step
   */
  public record CachedSequence(long id, int[] newBlockIds, int numComputedTokens, int numScheduledTokens) {}

  public boolean isEmpty() {
    return totalScheduledTokens == 0;
  }
}
