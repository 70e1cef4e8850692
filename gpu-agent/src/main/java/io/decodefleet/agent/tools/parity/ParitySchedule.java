package io.decodefleet.agent.tools.parity;

import io.decodefleet.agent.engine.ForwardBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * The fixed sequence of forward passes the parity checks run on two backends (CUDA against the
 * CPU reference; a tensor-parallel group against one device), laid out the way
 * the engine's model runner lays out a step (new sequences first, then cached ones; each sequence's
 * rows at consecutive positions; sample rows where a sequence has computed every token it knows).
 * It covers every kind of step the CUDA backend distinguishes:
 * <ol>
 *   <li>two prompts starting at position 0, the second cut after its first half (a prompt chunk
 *       that is not sampled);
 *   <li>a new prompt, a decode token and the second prompt's remaining chunk (mixed: fresh rows,
 *       a decode row, continuation rows over the cache);
 *   <li>a fourth prompt with every other sequence decoding, whose leading tokens are the third
 *       prompt's and whose table starts with the third sequence's full blocks of them, as a
 *       prefix-cache hit hands them over: its first chunk of 20 rows starts past position 0, ahead
 *       of the decode rows;
 *   <li>the fourth prompt's remaining chunk after the three decode rows (a continued span that
 *       runs ahead of rows listed before it: with 20 and 18 rows both chunks fill the paged prefill
 *       kernel's CTAs of the Llama presets, 16 rows at group 4);
 *   <li>then pure decode steps until every sequence has generated its tokens; the last sequence
 *       stops early, so the batch shrinks and later steps are padded up to their bucket.
 * </ol>
 * Prompt lengths (5, 17, 33, 70) straddle the block size and the kernels' 64-row tiles; blocks
 * are handed out in a shuffled order. Sequences are told apart by their tables ({@link
 * #sequenceOf}), not their first block, which the fourth shares with the third.
 */
public final class ParitySchedule {

  private static final int[] PROMPT_LENGTHS = {5, 17, 33, 70};
  /** Rows of the fourth prompt's first chunk; the rest follows a step later. */
  private static final int FOURTH_FIRST_CHUNK = 20;

  private final int blockSize;
  private final int[][] prompts;
  private final int[] generate; // tokens each sequence generates
  private final int[][] blocks;
  private final int numBlocks;
  private final int cachedTokens; // the fourth prompt's leading tokens held in the third's full blocks
  private final List<List<Integer>> tokens = new ArrayList<>(); // per sequence, after run()

  public ParitySchedule(int vocab, long seed, int sequences, int steps, int blockSize) {
    if (sequences < 1 || sequences > PROMPT_LENGTHS.length) {
      throw new IllegalArgumentException("parity sequences must be in 1.." + PROMPT_LENGTHS.length + ", got "
          + sequences);
    }
    if (steps < 1) {
      throw new IllegalArgumentException("parity steps must be >= 1, got " + steps);
    }
    this.blockSize = blockSize;
    Random r = new Random(seed);
    prompts = new int[sequences][];
    generate = new int[sequences];
    for (int s = 0; s < sequences; s++) {
      prompts[s] = new int[PROMPT_LENGTHS[s]];
      for (int i = 0; i < prompts[s].length; i++) {
        prompts[s][i] = r.nextInt(vocab);
      }
      generate[s] = s == sequences - 1 && sequences >= 3 ? Math.min(steps, 10) : steps;
    }
    // The fourth prompt starts with the third's first full blocks (at most two), as a prefix hit.
    int shared = sequences >= 4 ? Math.min(2, PROMPT_LENGTHS[2] / blockSize) : 0;
    cachedTokens = shared * blockSize;
    if (shared > 0) {
      System.arraycopy(prompts[2], 0, prompts[3], 0, cachedTokens);
    }
    int total = 0;
    int[] need = new int[sequences];
    for (int s = 0; s < sequences; s++) {
      need[s] = blocksFor(prompts[s].length + generate[s], blockSize);
      total += need[s] - (s == 3 ? shared : 0);
    }
    numBlocks = total + 3; // a few blocks nobody owns
    List<Integer> pool = new ArrayList<>();
    for (int b = 0; b < numBlocks; b++) {
      pool.add(b);
    }
    java.util.Collections.shuffle(pool, r);
    blocks = new int[sequences][];
    for (int s = 0, next = 0; s < sequences; s++) {
      blocks[s] = new int[need[s]];
      for (int i = 0; i < need[s]; i++) {
        blocks[s][i] = s == 3 && i < shared ? blocks[2][i] : pool.get(next++);
      }
    }
  }

  public int numBlocks() {
    return numBlocks;
  }

  public int blockSize() {
    return blockSize;
  }

  public int sequences() {
    return prompts.length;
  }

  /**
   * The sequence whose block table starts with {@code table}, a table of some batch row (each is a
   * prefix of its sequence's blocks, longer than the blocks two sequences share).
   */
  public int sequenceOf(int[] table) {
    int found = -1;
    for (int s = 0; s < blocks.length; s++) {
      if (table.length <= blocks[s].length && Arrays.equals(table, Arrays.copyOf(blocks[s], table.length))) {
        if (found >= 0) throw new IllegalArgumentException("table " + Arrays.toString(table) + " is two sequences'");
        found = s;
      }
    }
    if (found < 0) throw new IllegalArgumentException("table " + Arrays.toString(table) + " is no sequence's");
    return found;
  }

  /** Positions of sequence {@code s}'s prompt found in the cache when it starts (the fourth's prefix hit). */
  public int cachedTokens(int s) {
    return s == 3 ? cachedTokens : 0;
  }

  /** The prompt of sequence {@code s}. */
  public int[] prompt(int s) {
    return prompts[s].clone();
  }

  /**
   * Runs the schedule: {@code model} gets each step's batch and returns the token chosen for each
   * sample row, which the next steps feed back. Returns the batches in order.
   */
  public List<ForwardBatch> run(Function<ForwardBatch, int[]> model) {
    int n = prompts.length;
    tokens.clear();
    for (int[] p : prompts) {
      List<Integer> t = new ArrayList<>();
      for (int x : p) {
        t.add(x);
      }
      tokens.add(t);
    }
    int[] computed = new int[n];
    int[] generated = new int[n];
    boolean[] started = new boolean[n];
    List<ForwardBatch> batches = new ArrayList<>();
    for (int step = 0; ; step++) {
      List<int[]> spans = new ArrayList<>(); // {seq, count}
      // New sequences first, as the model runner orders them.
      if (step == 0) {
        spans.add(new int[] {0, prompts[0].length});
        if (n > 1) {
          spans.add(new int[] {1, (prompts[1].length + 1) / 2});
        }
      } else if (step == 1 && n > 2) {
        spans.add(new int[] {2, prompts[2].length});
      } else if (step == 2 && n > 3) {
        computed[3] = cachedTokens; // its K/V there already: the third sequence's prompt wrote them
        spans.add(new int[] {3, Math.min(FOURTH_FIRST_CHUNK, prompts[3].length - cachedTokens)});
      }
      // Then the sequences of earlier steps (a sequence added above has not started yet).
      for (int s = 0; s < n; s++) {
        if (started[s] && generated[s] < generate[s]) {
          spans.add(new int[] {s, tokens.get(s).size() - computed[s]});
        }
      }
      if (spans.isEmpty()) {
        return batches;
      }
      ForwardBatch batch = layOut(spans, tokens, computed);
      int[] chosen = model.apply(batch);
      batches.add(batch);
      int sample = 0;
      for (int[] sp : spans) {
        int s = sp[0];
        started[s] = true;
        computed[s] += sp[1];
        if (computed[s] == tokens.get(s).size()) {
          tokens.get(s).add(chosen[sample++]);
          generated[s]++;
        }
      }
    }
  }

  /** Sequence {@code s}'s prompt and generated tokens after {@link #run}. */
  public int[] tokensOf(int s) {
    return tokens.get(s).stream().mapToInt(Integer::intValue).toArray();
  }

  private ForwardBatch layOut(List<int[]> spans, List<List<Integer>> tokens, int[] computed) {
    int rows = spans.stream().mapToInt(sp -> sp[1]).sum();
    int[] tok = new int[rows];
    int[] pos = new int[rows];
    int[] slots = new int[rows];
    int[][] tables = new int[rows][];
    int[] ctx = new int[rows];
    List<Integer> sample = new ArrayList<>();
    int row = 0;
    for (int[] sp : spans) {
      int s = sp[0];
      int[] table = Arrays.copyOf(blocks[s], blocksFor(computed[s] + sp[1], blockSize));
      for (int i = 0; i < sp[1]; i++, row++) {
        int p = computed[s] + i;
        tok[row] = tokens.get(s).get(p);
        pos[row] = p;
        slots[row] = table[p / blockSize] * blockSize + p % blockSize;
        tables[row] = table;
        ctx[row] = p + 1;
      }
      if (computed[s] + sp[1] == tokens.get(s).size()) {
        sample.add(row - 1);
      }
    }
    return new ForwardBatch(tok, pos, slots, tables, ctx, sample.stream().mapToInt(Integer::intValue).toArray());
  }

  private static int blocksFor(int tokens, int blockSize) {
    return (tokens + blockSize - 1) / blockSize;
  }
}
