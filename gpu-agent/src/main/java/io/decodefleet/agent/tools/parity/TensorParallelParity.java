package io.decodefleet.agent.tools.parity;

import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.Sampler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Greedy tokens of a tensor-parallel group against one device's, two ways over the same {@link
 * ParitySchedule} (prompts, chunked and mixed steps, then pure decode):
 * <ol>
 *   <li>free-running: each backend feeds back its own tokens; compared sequence by sequence, the
 *       first differing token says where the group stops following the single device;
 *   <li>in lockstep: both run the same batches (the single device's tokens fed back) and every
 *       sample row is compared: logits (relative L2 error) and greedy token, where a differing
 *       token counts as a near tie when the single device's logits of the two are within the
 *       backend's tolerance — the difference bf16 rounding of the partial sums can make.
 * </ol>
 */
public final class TensorParallelParity {

  /**
   * @param steps decode tokens generated per sequence (the last of four stops early)
   * @param sequences how many sequences
   * @param matching sequences whose every generated token matched
   * @param firstDivergence per sequence, the first generated token that differed, -1 when none
   */
  /**
   * @param rows sample rows compared in lockstep
   * @param exactTokens rows whose greedy tokens were equal
   * @param nearTies rows whose tokens differed within the tolerance
   * @param mismatches rows whose tokens differed beyond it
   * @param maxRelError largest relative L2 error of a logits row
   */
  public record Lockstep(int rows, int exactTokens, int nearTies, int mismatches, double maxRelError,
      double tolerance) {}

  public record Result(int steps, int sequences, int matching, int[] firstDivergence, Lockstep lockstep) {
    /** Every sequence's every greedy token equal, free-running. */
    public boolean passed() {
      return matching == sequences;
    }

    /** In lockstep, every differing token a near tie. */
    public boolean passedUpToTies() {
      return lockstep.mismatches() == 0;
    }

    public String describe() {
      String free = passed() ? "all " + sequences + " sequences generate identical greedy tokens for " + steps
          + " steps" : matching + " of " + sequences + " sequences identical for " + steps
          + " steps; first differing token per sequence: " + Arrays.toString(firstDivergence);
      return free + String.format(java.util.Locale.ROOT, "; lockstep %d rows: %d equal, %d near ties, %d differ,"
          + " max logits rel error %.2e (tolerance %.0e)", lockstep.rows(), lockstep.exactTokens(),
          lockstep.nearTies(), lockstep.mismatches(), lockstep.maxRelError(), lockstep.tolerance());
    }
  }

  private TensorParallelParity() {}

  /**
   * Loads {@code config} into both backends (same seed), runs the schedule on each and compares.
   * The backends are loaded and their KV pools allocated here; the caller closes them.
   */
  public static Result compare(Backend single, Backend group, ModelConfig config, long seed, int sequences,
      int steps, int blockSize) {
    ParitySchedule schedule = new ParitySchedule(config.vocabSize(), seed, sequences, steps, blockSize);
    List<int[]> a = run(single, schedule, config, seed);
    List<int[]> b = run(group, schedule, config, seed);
    int matching = 0;
    int[] first = new int[sequences];
    for (int s = 0; s < sequences; s++) {
      int promptLength = schedule.prompt(s).length;
      first[s] = -1;
      int[] x = a.get(s);
      int[] y = b.get(s);
      for (int i = promptLength; i < Math.max(x.length, y.length); i++) {
        if (i >= x.length || i >= y.length || x[i] != y[i]) {
          first[s] = i - promptLength;
          break;
        }
      }
      if (first[s] < 0) matching++;
    }
    return new Result(steps, sequences, matching, first, lockstep(single, group, schedule, config.vocabSize()));
  }

  /** The schedule again on both (already loaded) backends, the single device's tokens fed to both. */
  private static Lockstep lockstep(Backend single, Backend group, ParitySchedule schedule, int vocab) {
    double tolerance = single.verifyTolerance();
    int[] counts = new int[4]; // rows, exact, near ties, mismatches
    double[] worst = {0};
    Sampler sampler = new Sampler(vocab);
    schedule.run(batch -> {
      float[] want = single.forward(batch);
      float[] got = group.forward(batch);
      int[] tokens = new int[batch.numSampled()];
      for (int i = 0; i < tokens.length; i++) {
        int a = sampler.sample(want, i);
        int b = sampler.sample(got, i);
        tokens[i] = a;
        counts[0]++;
        if (a == b) {
          counts[1]++;
        } else if (LogitsComparison.nearTie(want, i * vocab, vocab, a, b, tolerance)) {
          counts[2]++;
        } else {
          counts[3]++;
        }
        worst[0] = Math.max(worst[0], LogitsComparison.relL2(got, want, i * vocab, vocab));
      }
      return tokens;
    });
    return new Lockstep(counts[0], counts[1], counts[2], counts[3], worst[0], tolerance);
  }


  private static List<int[]> run(Backend backend, ParitySchedule schedule, ModelConfig config, long seed) {
    backend.loadModel(config, seed);
    backend.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
    schedule.run(backend::forwardGreedy);
    List<int[]> out = new ArrayList<>();
    for (int s = 0; s < schedule.sequences(); s++) out.add(schedule.tokensOf(s));
    return out;
  }
}
