package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.StepPlan;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;

/** The prefill steps the step bench times (fresh prompts, blocks of their own) and their FLOPs. */
public final class PromptSteps {

  private static final int BLOCK = 16;

  private PromptSteps() {}

  /**
   * One fresh prompt of {@code tokens} at once: its blocks from {@code firstBlock} on, one block table
   * shared by its rows, its last row sampled.
   */
  public static ForwardBatch prompt(int[] tokens, int firstBlock) {
    return prompts(tokens, 1, firstBlock);
  }

  /** 2 T x (non-embedding matmul parameters) + the LM head's one row + causal attention. */
  public static double prefillFlops(ModelConfig c, int t) {
    return prefillFlops(c, t, 1);
  }

  /** As above for {@code t} tokens over {@code prompts} prompts (as {@link #prompts} splits them), a head row each. */
  public static double prefillFlops(ModelConfig c, int t, int prompts) {
    long h = c.hiddenSize();
    long perLayer = h * (c.qSize() + 2L * c.kvSize()) + (long) c.qSize() * h + 3L * h * c.intermediateSize();
    double matmul = 2.0 * t * perLayer * c.numHiddenLayers() + 2.0 * h * c.vocabSize() * prompts;
    double pairs = 0;
    for (int p = 0; p < prompts; p++) {
      double len = length(t, prompts, p);
      pairs += len * (len + 1) / 2;
    }
    return matmul + 4.0 * c.headDim() * c.numAttentionHeads() * pairs * c.numHiddenLayers();
  }

  /**
   * {@code prompts} fresh prompts sharing {@code tokens} in order (each {@code tokens.length / prompts},
   * the first ones one more where that does not divide), each with blocks of its own from {@code
   * firstBlock} on, each prompt's last row sampled.
   */
  public static ForwardBatch prompts(int[] tokens, int prompts, int firstBlock) {
    int t = tokens.length;
    int[] positions = new int[t];
    int[] slots = new int[t];
    int[][] tables = new int[t][];
    int[] ctx = new int[t];
    int[] sample = new int[prompts];
    int row = 0;
    int block = firstBlock;
    for (int p = 0; p < prompts; p++) {
      int len = length(t, prompts, p);
      int[] table = new int[StepPlan.blocksFor(len, BLOCK)];
      for (int i = 0; i < table.length; i++) table[i] = block++;
      for (int i = 0; i < len; i++, row++) {
        positions[row] = i;
        slots[row] = table[i / BLOCK] * BLOCK + i % BLOCK;
        tables[row] = table;
        ctx[row] = i + 1;
      }
      sample[p] = row - 1;
    }
    return new ForwardBatch(tokens, positions, slots, tables, ctx, sample);
  }

  /** Prompt {@code p}'s tokens when {@code prompts} share {@code t}: the first ones one more where it does not divide. */
  private static int length(int t, int prompts, int p) {
    return t / prompts + (p < t % prompts ? 1 : 0);
  }
}
