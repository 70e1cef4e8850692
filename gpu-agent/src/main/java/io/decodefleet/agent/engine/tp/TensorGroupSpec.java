package io.decodefleet.agent.engine.tp;

import java.time.Duration;

/**
 * A backend's membership of a tensor-parallel (or expert-parallel) group, handed out by the group's
 * {@link TensorParallelBackend}.
 *
 * @param id the group's unique id (NCCL's 128 opaque bytes on GPUs), the same for every rank
 * @param shard this backend's rank and the group size
 * @param timeout limit for joining and for each collective; past it the group is aborted
 * @param parallelism what the ranks split: heads and MLP columns, or a mixture's experts
 */
public record TensorGroupSpec(byte[] id, TensorShard shard, Duration timeout, Parallelism parallelism) {

  /** A tensor-parallel group. */
  public TensorGroupSpec(byte[] id, TensorShard shard, Duration timeout) {
    this(id, shard, timeout, Parallelism.TENSOR);
  }

  /** This rank's experts, in an expert-parallel group. */
  public ExpertShard expertShard() {
    return new ExpertShard(shard.rank(), shard.size());
  }

  public TensorGroupSpec {
    if (id == null || id.length == 0) throw new IllegalArgumentException("tensor group id is empty");
    if (shard == null || shard.size() < 2) {
      throw new IllegalArgumentException("a tensor-parallel group needs >= 2 ranks");
    }
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("tensor group timeout must be positive, got " + timeout);
    }
    if (parallelism == null) throw new IllegalArgumentException("the group's parallelism must be given");
  }
}
