package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.sampling.SamplingParams;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a {@link SchedulerOutput} into a forward pass and sampled tokens. Like vLLM v1's runner it
 * keeps its own copy of each running sequence (tokens and block table), fed by the scheduler's diffs,
 * and appends the tokens it samples itself.
 */
public final class ModelRunner {
  private final Backend backend;
  private final Sampler sampler;
  private final int blockSize;
  private final int vocabSize;
  private final Map<Long, RunnerSequence> sequences = new HashMap<>();
  /** Decode steps to profile at the start of each busy spell, and how many this spell has. */
  private int profileSteps;
  private int profiled;
  /** Decode steps asked for once ({@link #profileNextSteps}), and whether a step ran since. */
  private int onceSteps;
  private boolean steppedSinceIdle;
  /** Why the backend cannot profile; asked once, when profiling is first wanted. */
  private java.util.Optional<String> profileRefused;

  private static final class RunnerSequence {
    int[] tokens; // (capacity) token ids; the first numTokens are valid
    int numTokens;
    int[] blockTable; // (numBlocks) block ids
    int numBlocks;
    final SamplingParams sampling;

    RunnerSequence(int[] tokens, int[] blocks, SamplingParams sampling) {
      this.sampling = sampling;
      this.tokens = Arrays.copyOf(tokens, Math.max(16, tokens.length * 2));
      this.numTokens = tokens.length;
      this.blockTable = Arrays.copyOf(blocks, Math.max(4, blocks.length * 2));
      this.numBlocks = blocks.length;
    }

    void appendBlocks(int[] blocks) {
      if (numBlocks + blocks.length > blockTable.length) {
        blockTable = Arrays.copyOf(blockTable, (numBlocks + blocks.length) * 2);
      }
      System.arraycopy(blocks, 0, blockTable, numBlocks, blocks.length);
      numBlocks += blocks.length;
    }

    void appendToken(int token) {
      if (numTokens == tokens.length) tokens = Arrays.copyOf(tokens, tokens.length * 2);
      tokens[numTokens++] = token;
    }
  }

  /**
   * A step's result: the sampled token and its logits row per sequence that completed its tokens,
   * and the step's kernel-family profile when it was profiled (else null).
   */
  public record StepResult(Map<Long, Integer> sampled, Map<Long, float[]> logits, int numTokens,
      StepProfile profile) {}

  public ModelRunner(Backend backend, int blockSize, int vocabSize) {
    this.backend = backend;
    this.sampler = new Sampler(vocabSize);
    this.blockSize = blockSize;
    this.vocabSize = vocabSize;
  }

  public StepResult execute(SchedulerOutput out) {
    return execute(out, id -> true);
  }

  /**
   * Profile the first {@code steps} decode-only steps (every sequence one token, none new) of each
   * busy spell from now on, where the backend can ({@link Backend#profileUnsupported}); 0: none.
   */
  public void profileDecodeSteps(int steps) {
    profileSteps = steps;
    profiled = 0;
  }

  /**
   * Profile the next {@code steps} decode-only steps once, from now until the busy spell they fall
   * in ends, on top of {@link #profileDecodeSteps}' setting: one benchmark run's profile. The count
   * starts afresh, so steps already profiled in a spell under way do not use it up.
   */
  public void profileNextSteps(int steps) {
    if (steps < 0) throw new IllegalArgumentException("steps must be >= 0, got " + steps);
    onceSteps = steps;
    profiled = 0;
  }

  /**
   * The engine has no work: the next busy spell (say the next benchmark run) profiles afresh, and a
   * once-only request ends with the spell it covered (it waits while no step has run since it came).
   */
  public void idle() {
    profiled = 0;
    if (steppedSinceIdle) onceSteps = 0;
    steppedSinceIdle = false;
  }

  /** Whether this step, of {@code rows} sample rows over {@code n} tokens, is one to profile. */
  private boolean profiles(SchedulerOutput out, int n, int rows) {
    if (profiled >= Math.max(profileSteps, onceSteps) || n != rows || !out.newSequences().isEmpty()) return false;
    if (profileRefused == null) profileRefused = backend.profileUnsupported();
    return profileRefused.isEmpty();
  }

  /**
   * Runs one step. Logits come back to the host only when a sampled sequence satisfies
   * {@code needsLogits} (the recompute check); otherwise the backend samples greedily where the
   * logits are, and only the rows' tokens cross to the host.
   */
  public StepResult execute(SchedulerOutput out, java.util.function.LongPredicate needsLogits) {
    for (long id : out.finishedIds()) sequences.remove(id);
    for (long id : out.preemptedIds()) sequences.remove(id);
    if (out.isEmpty()) return new StepResult(Map.of(), Map.of(), 0, null);
    steppedSinceIdle = true;

    // (sequence, first position, count) in batch order: new sequences, then cached ones.
    List<long[]> spans = new ArrayList<>();
    for (SchedulerOutput.NewSequence s : out.newSequences()) {
      sequences.put(s.id(), new RunnerSequence(s.tokens(), s.blockIds(), s.sampling()));
      spans.add(new long[] {s.id(), s.numComputedTokens(), s.numScheduledTokens()});
    }
    for (SchedulerOutput.CachedSequence s : out.cachedSequences()) {
      RunnerSequence rs = sequences.get(s.id());
      if (rs == null) throw new IllegalStateException("runner has no state for sequence " + s.id());
      rs.appendBlocks(s.newBlockIds());
      spans.add(new long[] {s.id(), s.numComputedTokens(), s.numScheduledTokens()});
    }

    int n = out.totalScheduledTokens();
    int[] tokens = new int[n];
    int[] positions = new int[n];
    int[] slots = new int[n];
    int[][] tables = new int[n][];
    int[] contextLens = new int[n];
    List<Integer> sampleRows = new ArrayList<>();
    List<Long> sampleIds = new ArrayList<>();
    int row = 0;
    for (long[] span : spans) {
      RunnerSequence rs = sequences.get(span[0]);
      int start = (int) span[1];
      int count = (int) span[2];
      int[] table = Arrays.copyOf(rs.blockTable, rs.numBlocks);
      for (int i = 0; i < count; i++, row++) {
        int pos = start + i;
        tokens[row] = rs.tokens[pos];
        positions[row] = pos;
        slots[row] = table[pos / blockSize] * blockSize + pos % blockSize;
        tables[row] = table;
        contextLens[row] = pos + 1;
      }
      if (start + count == rs.numTokens) {
        sampleRows.add(row - 1);
        sampleIds.add(span[0]);
      }
    }
    if (row != n) throw new IllegalStateException("scheduled " + n + " tokens but laid out " + row);

    int[] rows = sampleRows.stream().mapToInt(Integer::intValue).toArray();
    ForwardBatch batch = new ForwardBatch(tokens, positions, slots, tables, contextLens, rows);
    Map<Long, Integer> sampled = new LinkedHashMap<>();
    Map<Long, float[]> logitRows = new HashMap<>();
    SamplingParams[] params = new SamplingParams[rows.length];
    int[] samplePositions = new int[rows.length]; // where each sampled token goes: the draw's counter
    boolean allGreedy = true;
    for (int i = 0; i < rows.length; i++) {
      RunnerSequence rs = sequences.get(sampleIds.get(i));
      params[i] = rs.sampling;
      samplePositions[i] = rs.numTokens;
      allGreedy &= rs.sampling.greedy();
    }
    if (sampleIds.stream().noneMatch(needsLogits::test)) {
      StepProfile profile = null;
      int[] greedy;
      if (profiles(out, n, rows.length)) {
        StepProfile.Run run = backend.forwardProfiled(batch, params, samplePositions);
        profiled++;
        greedy = run.tokens();
        profile = run.profile();
      } else {
        greedy = allGreedy ? backend.forwardGreedy(batch) : backend.forwardSampled(batch, params, samplePositions);
      }
      for (int i = 0; i < rows.length; i++) {
        long id = sampleIds.get(i);
        sampled.put(id, greedy[i]);
        sequences.get(id).appendToken(greedy[i]);
      }
      return new StepResult(sampled, logitRows, n, profile);
    }
    float[] logits = backend.forward(batch);
    for (int i = 0; i < rows.length; i++) {
      long id = sampleIds.get(i);
      int token = sampler.sample(logits, i, params[i], samplePositions[i]);
      sampled.put(id, token);
      if (needsLogits.test(id)) logitRows.put(id, Arrays.copyOfRange(logits, i * vocabSize, (i + 1) * vocabSize));
      sequences.get(id).appendToken(token);
    }
    return new StepResult(sampled, logitRows, n, null);
  }
}
