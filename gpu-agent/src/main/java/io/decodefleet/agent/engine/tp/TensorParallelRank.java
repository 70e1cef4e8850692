package io.decodefleet.agent.engine.tp;

import io.decodefleet.agent.engine.Backend;
import java.util.Optional;

/**
 * A backend that can be one rank of a tensor-parallel group, which a {@link TensorParallelBackend}
 * drives. The engine never sees a rank: it sees the group, as one {@link Backend}.
 *
 * <p>Call order: {@link #tensorParallelUnsupported}, then on rank 0 {@link #newTensorGroupId},
 * then {@link #joinTensorGroup} on every rank at once (before {@link #loadModel}), then the
 * backend's usual calls, the same on every rank; {@link #abortTensorGroup} at any time.
 */
public interface TensorParallelRank extends Backend {

  /**
   * Why this backend cannot be one rank of a tensor-parallel group, or empty when it can (then
   * {@link #newTensorGroupId} and {@link #joinTensorGroup} work).
   */
  Optional<String> tensorParallelUnsupported();

  /** A fresh unique id for a tensor-parallel group: made by rank 0, handed to every rank. */
  byte[] newTensorGroupId();

  /**
   * Makes this backend rank {@code spec.shard().rank()} of a tensor-parallel group, before
   * {@link #loadModel}: it then loads only its shard of each weight and completes the attention
   * and MLP outputs with an all-reduce across the group. Blocks until every rank has joined, or
   * throws (naming the rank, the device and the cause) once {@code spec.timeout()} has passed.
   * Every rank must then be given the same calls with the same arguments, in the same order.
   */
  void joinTensorGroup(TensorGroupSpec spec);

  /**
   * Breaks this rank's collectives so that a rank waiting on a peer that failed returns with an
   * error instead of hanging; callable from any thread. Does nothing outside a group.
   */
  void abortTensorGroup();
}
