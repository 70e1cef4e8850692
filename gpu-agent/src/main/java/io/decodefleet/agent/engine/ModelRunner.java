package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.sampling.SamplingParams;

import java.util.Arrays;
import java.util.HashMap;
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
  /** The sequences the runner holds, each in a slot found by its id (no boxed ids on a step's path). */
  private final LongIntMap slotOf = new LongIntMap();
  private RunnerSequence[] slots = new RunnerSequence[64];
  private int[] freeSlots = new int[64];
  private int numFreeSlots;
  private int slotsUsed;
  /** The step {@link #layOut} returned last, and the sequence of each of its sample rows. */
  private LaidOut lastLaidOut;
  private RunnerSequence[] lastSampleSeqs;
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
    int[] exactTable; // table(), null until asked for since the last block came
    final SamplingParams sampling;

    RunnerSequence(int[] tokens, int[] blocks, SamplingParams sampling) {
      this.sampling = sampling;
      this.tokens = Arrays.copyOf(tokens, Math.max(16, tokens.length * 2));
      this.numTokens = tokens.length;
      this.blockTable = Arrays.copyOf(blocks, Math.max(4, blocks.length * 2));
      this.numBlocks = blocks.length;
    }

    /**
     * The block table, exactly numBlocks long: one copy a sequence until its next block comes, shared
     * by the steps in between (the batch's rows only read it).
     */
    int[] table() {
      if (exactTable == null) exactTable = Arrays.copyOf(blockTable, numBlocks);
      return exactTable;
    }

    void appendBlocks(int[] blocks) {
      if (blocks.length == 0) return;
      exactTable = null;
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

  /**
   * A runner without a backend, for timing the host's part of a step ({@link #layOut}, {@link
   * #appendSampled}) on its own; {@link #execute} refuses to run on it.
   */
  public static ModelRunner layoutOnly(int blockSize, int vocabSize) {
    return new ModelRunner(null, blockSize, vocabSize);
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
   * A step laid out for the backend: its forward batch, and for each sample row the sequence it
   * samples for, that sequence's sampling params and the position its token takes.
   */
  public record LaidOut(ForwardBatch batch, long[] sampleIds, SamplingParams[] params, int[] samplePositions,
      boolean allGreedy) {}

  /**
   * The host's part of a step before the device: applies the scheduler's diffs to the runner's own
   * sequences (new ones, appended blocks, finished and preempted ones forgotten) and lays the
   * scheduled tokens out as a forward batch, in batch order (new sequences, then cached ones); null
   * when nothing is scheduled. {@link #appendSampled} takes the step's tokens back.
   */
  public LaidOut layOut(SchedulerOutput out) {
    for (long id : out.finishedIds()) forget(id);
    for (long id : out.preemptedIds()) forget(id);
    if (out.isEmpty()) return null;

    // (sequence, first position, count) in batch order: new sequences, then cached ones.
    int numSpans = out.newSequences().size() + out.cachedSequences().size();
    RunnerSequence[] spanSeqs = new RunnerSequence[numSpans];
    long[] spanIds = new long[numSpans];
    int[] spanStart = new int[numSpans];
    int[] spanCount = new int[numSpans];
    int sp = 0;
    for (SchedulerOutput.NewSequence s : out.newSequences()) {
      RunnerSequence rs = new RunnerSequence(s.tokens(), s.blockIds(), s.sampling());
      hold(s.id(), rs);
      spanSeqs[sp] = rs;
      spanIds[sp] = s.id();
      spanStart[sp] = s.numComputedTokens();
      spanCount[sp++] = s.numScheduledTokens();
    }
    for (SchedulerOutput.CachedSequence s : out.cachedSequences()) {
      RunnerSequence rs = sequence(s.id());
      if (rs == null) throw new IllegalStateException("runner has no state for sequence " + s.id());
      rs.appendBlocks(s.newBlockIds());
      spanSeqs[sp] = rs;
      spanIds[sp] = s.id();
      spanStart[sp] = s.numComputedTokens();
      spanCount[sp++] = s.numScheduledTokens();
    }

    int n = out.totalScheduledTokens();
    int[] tokens = new int[n];
    int[] positions = new int[n];
    int[] slots = new int[n];
    int[][] tables = new int[n][];
    int[] contextLens = new int[n];
    int[] sampleRows = new int[numSpans];
    long[] sampleIds = new long[numSpans];
    RunnerSequence[] sampleSeqs = new RunnerSequence[numSpans];
    int sampled = 0;
    int row = 0;
    for (int i = 0; i < numSpans; i++) {
      RunnerSequence rs = spanSeqs[i];
      int start = spanStart[i];
      int count = spanCount[i];
      int[] table = rs.table();
      for (int t = 0; t < count; t++, row++) {
        int pos = start + t;
        tokens[row] = rs.tokens[pos];
        positions[row] = pos;
        slots[row] = table[pos / blockSize] * blockSize + pos % blockSize;
        tables[row] = table;
        contextLens[row] = pos + 1;
      }
      if (start + count == rs.numTokens) {
        sampleRows[sampled] = row - 1;
        sampleSeqs[sampled] = rs;
        sampleIds[sampled++] = spanIds[i];
      }
    }
    if (row != n) throw new IllegalStateException("scheduled " + n + " tokens but laid out " + row);

    int[] rows = Arrays.copyOf(sampleRows, sampled);
    long[] ids = Arrays.copyOf(sampleIds, sampled);
    SamplingParams[] params = new SamplingParams[sampled];
    int[] samplePositions = new int[sampled]; // where each sampled token goes: the draw's counter
    boolean allGreedy = true;
    for (int i = 0; i < sampled; i++) {
      RunnerSequence rs = sampleSeqs[i];
      params[i] = rs.sampling;
      samplePositions[i] = rs.numTokens;
      allGreedy &= rs.sampling.greedy();
    }
    lastLaidOut = new LaidOut(new ForwardBatch(tokens, positions, slots, tables, contextLens, rows), ids, params,
        samplePositions, allGreedy);
    lastSampleSeqs = sampleSeqs;
    return lastLaidOut;
  }

  private RunnerSequence sequence(long id) {
    int slot = slotOf.get(id);
    return slot < 0 ? null : slots[slot];
  }

  /** Holds {@code rs} as sequence {@code id} (in place of any it held as that id). */
  private void hold(long id, RunnerSequence rs) {
    int slot = slotOf.get(id);
    if (slot < 0) {
      slot = numFreeSlots > 0 ? freeSlots[--numFreeSlots] : slotsUsed++;
      if (slot == slots.length) slots = Arrays.copyOf(slots, 2 * slot);
      slotOf.put(id, slot);
    }
    slots[slot] = rs;
  }

  /** Forgets sequence {@code id}; nothing when it holds none. */
  private void forget(long id) {
    int slot = slotOf.get(id);
    if (slot < 0) return;
    slotOf.remove(id);
    slots[slot] = null;
    if (numFreeSlots == freeSlots.length) freeSlots = Arrays.copyOf(freeSlots, 2 * numFreeSlots);
    freeSlots[numFreeSlots++] = slot;
  }

  /**
   * Appends each sample row's token to its sequence, as the step sampled it: {@code tokens[i]} for
   * {@code step.sampleIds()[i]}. Returns them by sequence, in sample-row order.
   */
  public Map<Long, Integer> appendSampled(LaidOut step, int[] tokens) {
    long[] ids = step.sampleIds();
    if (tokens.length != ids.length) {
      throw new IllegalArgumentException(tokens.length + " tokens for " + ids.length + " sample rows");
    }
    // The step just laid out keeps its sample rows' sequences: no lookup by id.
    RunnerSequence[] seqs = step == lastLaidOut ? lastSampleSeqs : null;
    for (int i = 0; i < ids.length; i++) {
      (seqs != null ? seqs[i] : sequence(ids[i])).appendToken(tokens[i]);
    }
    return new SampledTokens(ids, tokens);
  }

  /**
   * Runs one step. Logits come back to the host only when a sampled sequence satisfies
   * {@code needsLogits} (the recompute check); otherwise the backend samples greedily where the
   * logits are, and only the rows' tokens cross to the host.
   */
  public StepResult execute(SchedulerOutput out, java.util.function.LongPredicate needsLogits) {
    if (backend == null) throw new IllegalStateException("this runner only lays steps out: it has no backend");
    LaidOut step = layOut(out);
    if (step == null) return new StepResult(Map.of(), Map.of(), 0, null);
    steppedSinceIdle = true;
    ForwardBatch batch = step.batch();
    int n = batch.numTokens();
    long[] ids = step.sampleIds();
    if (Arrays.stream(ids).noneMatch(needsLogits::test)) {
      StepProfile profile = null;
      int[] tokens;
      if (profiles(out, n, ids.length)) {
        StepProfile.Run run = backend.forwardProfiled(batch, step.params(), step.samplePositions());
        profiled++;
        tokens = run.tokens();
        profile = run.profile();
      } else {
        tokens = step.allGreedy() ? backend.forwardGreedy(batch)
            : backend.forwardSampled(batch, step.params(), step.samplePositions());
      }
      return new StepResult(appendSampled(step, tokens), Map.of(), n, profile);
    }
    float[] logits = backend.forward(batch);
    int[] tokens = new int[ids.length];
    Map<Long, float[]> logitRows = new HashMap<>();
    for (int i = 0; i < ids.length; i++) {
      tokens[i] = sampler.sample(logits, i, step.params()[i], step.samplePositions()[i]);
      if (needsLogits.test(ids[i])) logitRows.put(ids[i], Arrays.copyOfRange(logits, i * vocabSize, (i + 1) * vocabSize));
    }
    return new StepResult(appendSampled(step, tokens), logitRows, n, null);
  }
}
