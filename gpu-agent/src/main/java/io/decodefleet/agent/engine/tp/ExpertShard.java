package io.decodefleet.agent.engine.tp;

import io.decodefleet.agent.engine.ModelConfig;
import java.util.Optional;

/**
 * Rank {@code rank} of a {@code size}-way expert-parallel group: it holds experts {@code [rank *
 * E / size, (rank + 1) * E / size)} of every layer, whole, and a whole copy of everything else
 * (attention, norms, router, embedding, head). On CPU ranks attention is data-parallel: each
 * sequence is attended on one rank ({@link #attends}), whose KV pool alone holds its blocks; tokens
 * travel to their experts' ranks and their outputs back (dispatch and combine). CUDA ranks attend
 * every row instead and sum their experts' outputs with an all-reduce (docs/moe.md).
 */
public record ExpertShard(int rank, int size) {

  public ExpertShard {
    if (size < 1 || rank < 0 || rank >= size) {
      throw new IllegalArgumentException("expert-parallel rank " + rank + " of " + size + " is not a rank");
    }
  }

  /** Why {@code config}'s experts cannot be split {@code size} ways, or empty when they can. */
  public static Optional<String> unsplittable(ModelConfig config, int size) {
    if (!config.isMoe()) {
      return Optional.of("model " + config.name() + " has no experts: expert parallelism needs a mixture of experts");
    }
    if (config.moe().numExperts() % size != 0) {
      return Optional.of("model " + config.name() + " cannot be split " + size + " ways: num_experts "
          + config.moe().numExperts() + " is not a multiple of " + size);
    }
    return Optional.empty();
  }

  /** The first expert this rank holds. */
  public int firstExpert(int numExperts) {
    return rank * (numExperts / size);
  }

  /** One past the last expert this rank holds. */
  public int endExpert(int numExperts) {
    return (rank + 1) * (numExperts / size);
  }

  /** The rank that holds expert {@code e}. */
  public int owner(int e, int numExperts) {
    return e / (numExperts / size);
  }

  /**
   * Whether this rank attends the sequence whose block table starts with {@code firstBlock}. A
   * sequence keeps its first block for life, and sequences that share a cached prefix share it, so
   * a sequence's KV is written and read on one rank only.
   */
  public boolean attends(int firstBlock) {
    return Math.floorMod(firstBlock, size) == rank;
  }
}
