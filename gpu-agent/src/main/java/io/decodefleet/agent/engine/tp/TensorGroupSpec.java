package io.decodefleet.agent.engine.tp;

import java.time.Duration;

/**
 * A backend's membership of a tensor-parallel group, handed out by the group's {@link
 * TensorParallelBackend}.
 *
 * @param id the group's unique id (NCCL's 128 opaque bytes on GPUs), the same for every rank
 * @param shard this backend's rank and the group size
 * @param timeout limit for joining and for each collective; past it the group is aborted
 */
public record TensorGroupSpec(byte[] id, TensorShard shard, Duration timeout) {
  public TensorGroupSpec {
    if (id == null || id.length == 0) throw new IllegalArgumentException("tensor group id is empty");
    if (shard == null || shard.size() < 2) {
      throw new IllegalArgumentException("a tensor-parallel group needs >= 2 ranks");
    }
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("tensor group timeout must be positive, got " + timeout);
    }
  }
}
