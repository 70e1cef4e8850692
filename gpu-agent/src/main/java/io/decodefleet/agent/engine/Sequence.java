package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One sequence inside an engine: its prompt, the tokens generated so far, how many of its tokens
 * already have their K/V in the cache, and its block table. Owned by the engine thread.
 */
public final class Sequence {
  public enum Status { WAITING, RUNNING, FINISHED }

  private final long id;
  private final int[] promptTokens; // (promptLen) token ids
  private final int maxTokens;
  private int[] outputTokens = new int[16]; // (numOutputTokens) token ids, grown as needed
  private int numOutputTokens;
  private int numComputedTokens; // tokens whose K/V is in the cache
  private final List<Integer> blockTable = new ArrayList<>();
  private Status status = Status.WAITING;
  private int preemptions;
  private final boolean prefillOnly;
  private int adoptedOutputs; // outputs that arrived with the sequence (sampled by another agent)
  private final SamplingParams sampling;
  private String finishReason = "";
  private int hashedBlocks; // leading full blocks whose content hash is known (prefix caching)
  private long lastBlockHash; // the hash of block hashedBlocks - 1 (the chain's parent)
  /** The hash chain of its full blocks as last looked up: a sequence that waits is not hashed again. */
  private long[] lookupChain;
  /** Held back for a prefix another sequence was prefilling, and not admitted since. */
  private boolean deferredForPrefix;
  // The scheduler's bookkeeping of it (Scheduler only): whether the runner holds its state, the
  // length of the block table last sent to the runner, and the tokens the last step scheduled.
  boolean knownToRunner;
  int blocksSent;
  int scheduledTokens;

  public Sequence(long id, int[] promptTokens, int maxTokens) {
    this(id, promptTokens, maxTokens, false);
  }

  public Sequence(long id, int[] promptTokens, int maxTokens, boolean prefillOnly) {
    this(id, promptTokens, maxTokens, prefillOnly, SamplingParams.GREEDY);
  }

  /**
   * @param prefillOnly stop after the prompt's first sampled token and keep the KV pages for a
   *     hand-off to another agent
   * @param sampling how its tokens are picked and when it stops early
   */
  public Sequence(long id, int[] promptTokens, int maxTokens, boolean prefillOnly, SamplingParams sampling) {
    if (promptTokens.length == 0) throw new IllegalArgumentException("sequence " + id + ": empty prompt");
    if (maxTokens < 1) throw new IllegalArgumentException("sequence " + id + ": max tokens must be >= 1");
    this.id = id;
    this.promptTokens = promptTokens.clone();
    this.maxTokens = maxTokens;
    this.prefillOnly = prefillOnly;
    this.sampling = sampling;
  }

  /**
   * A sequence continued from another agent: its prompt, the {@code outputs} sampled there, and
   * {@code numComputed} positions of K/V that arrive with it (0: it is recomputed here).
   */
  public static Sequence continued(long id, int[] promptTokens, int[] outputs, int maxTokens, int numComputed) {
    return continued(id, promptTokens, outputs, maxTokens, numComputed, SamplingParams.GREEDY);
  }

  /** As {@link #continued(long, int[], int[], int, int)}, with its sampling and stop rules. */
  public static Sequence continued(long id, int[] promptTokens, int[] outputs, int maxTokens, int numComputed,
      SamplingParams sampling) {
    if (outputs.length >= maxTokens) {
      throw new IllegalArgumentException("sequence " + id + ": " + outputs.length + " outputs already reach max tokens "
          + maxTokens);
    }
    Sequence seq = new Sequence(id, promptTokens, maxTokens, false, sampling);
    for (int t : outputs) seq.appendOutput(t);
    seq.adoptedOutputs = outputs.length;
    if (numComputed < 0 || numComputed >= seq.numTokens()) {
      throw new IllegalArgumentException("sequence " + id + ": " + numComputed + " computed positions of "
          + seq.numTokens() + " tokens: the last token's K/V is computed here, so at most " + (seq.numTokens() - 1));
    }
    seq.numComputedTokens = numComputed;
    return seq;
  }

  public SamplingParams sampling() {
    return sampling;
  }

  /** Why it finished ("length", "stop", "abort"); empty while it has not. */
  public String finishReason() {
    return finishReason;
  }

  public boolean prefillOnly() {
    return prefillOnly;
  }

  /** Outputs sampled by another agent before the sequence came here (none for a local one). */
  public int adoptedOutputs() {
    return adoptedOutputs;
  }

  public long id() {
    return id;
  }

  public int promptLength() {
    return promptTokens.length;
  }

  public int maxTokens() {
    return maxTokens;
  }

  public int numOutputTokens() {
    return numOutputTokens;
  }

  /** Prompt plus generated tokens. */
  public int numTokens() {
    return promptTokens.length + numOutputTokens;
  }

  /** The token at position {@code pos} of prompt + output. */
  public int tokenAt(int pos) {
    return pos < promptTokens.length ? promptTokens[pos] : outputTokens[pos - promptTokens.length];
  }

  /** All tokens, prompt then output. */
  public int[] allTokens() {
    int[] all = Arrays.copyOf(promptTokens, numTokens());
    System.arraycopy(outputTokens, 0, all, promptTokens.length, numOutputTokens);
    return all;
  }

  public int[] promptTokens() {
    return promptTokens.clone();
  }

  public int[] outputTokens() {
    return Arrays.copyOf(outputTokens, numOutputTokens);
  }

  public int numComputedTokens() {
    return numComputedTokens;
  }

  public List<Integer> blockTable() {
    return blockTable;
  }

  public Status status() {
    return status;
  }

  public int preemptions() {
    return preemptions;
  }

  /** The most tokens this sequence can ever hold: its KV footprint when it finishes. */
  public int maxTotalTokens() {
    return promptTokens.length + maxTokens;
  }

  boolean isFinishedByLength() {
    return numOutputTokens >= maxTokens;
  }

  void appendOutput(int token) {
    if (numOutputTokens == outputTokens.length) outputTokens = Arrays.copyOf(outputTokens, outputTokens.length * 2);
    outputTokens[numOutputTokens++] = token;
  }

  void advanceComputed(int tokens) {
    numComputedTokens += tokens;
    if (numComputedTokens > numTokens()) {
      throw new IllegalStateException("sequence " + id + ": computed " + numComputedTokens + " of " + numTokens());
    }
  }

  void markRunning() {
    status = Status.RUNNING;
  }

  void markFinished(String reason) {
    status = Status.FINISHED;
    finishReason = reason;
  }

  /** Whether its last output token is one of its stop tokens (counted from min tokens on). */
  boolean isFinishedByStop() {
    return numOutputTokens > 0 && sampling.stopsAt(outputTokens[numOutputTokens - 1], numOutputTokens);
  }

  /** Preempted by recompute: its cache is gone, it waits again and will be re-prefilled in full. */
  void resetForRecompute() {
    status = Status.WAITING;
    numComputedTokens = 0;
    hashedBlocks = 0;
    preemptions++;
  }

  /** Its first {@code tokens} positions come from cached blocks just put in its (empty) table. */
  void adoptCachedPrefix(int tokens) {
    numComputedTokens = tokens;
  }

  /** Gives back an adopted prefix whose blocks were released: nothing is computed. */
  void dropCachedPrefix() {
    numComputedTokens = 0;
    hashedBlocks = 0;
  }

  /** The chain kept by {@link #keepLookupChain} when it covers exactly {@code blocks} blocks, else null. */
  long[] lookupChain(int blocks) {
    return lookupChain != null && lookupChain.length == blocks ? lookupChain : null;
  }

  void keepLookupChain(long[] chain) {
    lookupChain = chain;
  }

  /** The chain kept by its last lookup, whatever its length, or null if it was never looked up. */
  long[] keptLookupChain() {
    return lookupChain;
  }

  void deferForPrefix() {
    deferredForPrefix = true;
  }

  /** Whether it was held back for a prefix since it last waited; clears the mark. */
  boolean takeDeferredForPrefix() {
    boolean was = deferredForPrefix;
    deferredForPrefix = false;
    return was;
  }

  int hashedBlocks() {
    return hashedBlocks;
  }

  long lastBlockHash() {
    return lastBlockHash;
  }

  void blockHashed(long hash) {
    hashedBlocks++;
    lastBlockHash = hash;
  }
}
