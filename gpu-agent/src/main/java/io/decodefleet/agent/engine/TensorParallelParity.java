package io.decodefleet.agent.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Greedy tokens of a tensor-parallel group against one device's: the same {@link ParitySchedule}
 * (prompts, chunked and mixed steps, then pure decode) on both, each feeding back its own tokens,
 * compared sequence by sequence. With identical tokens for every step the group computes the same
 * model; the first differing step of a sequence says where it stops doing so.
 */
public final class TensorParallelParity {

  /**
   * @param steps decode tokens generated per sequence (the last of four stops early)
   * @param sequences how many sequences
   * @param matching sequences whose every generated token matched
   * @param firstDivergence per sequence, the first generated token that differed, -1 when none
   */
  public record Result(int steps, int sequences, int matching, int[] firstDivergence) {
    public boolean passed() {
      return matching == sequences;
    }

    public String describe() {
      if (passed()) {
        return "all " + sequences + " sequences generate identical greedy tokens for " + steps + " steps";
      }
      return matching + " of " + sequences + " sequences match; first differing token per sequence: "
          + Arrays.toString(firstDivergence);
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
    return new Result(steps, sequences, matching, first);
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
