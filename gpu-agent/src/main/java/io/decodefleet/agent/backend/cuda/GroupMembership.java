package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.driver.NativeStream;
import io.decodefleet.agent.engine.tp.ExpertShard;
import io.decodefleet.agent.engine.tp.Parallelism;
import io.decodefleet.agent.engine.tp.TensorGroupSpec;
import io.decodefleet.agent.engine.tp.TensorShard;
import io.decodefleet.agent.nccl.Nccl;
import io.decodefleet.agent.nccl.NcclCommunicator;
import java.time.Duration;

/**
 * A CUDA backend's place in a tensor-parallel or expert-parallel group: the group's NCCL
 * communicator and what this rank holds. A tensor-parallel rank holds its {@link TensorShard} of
 * the heads and MLP columns and all-reduces its o and down outputs; an expert-parallel rank holds
 * the whole model but its {@link ExpertShard} of every layer's experts, and all-reduces its MoE
 * layers' outputs. On a single device: no communicator, the whole model.
 */
final class GroupMembership {

  private long comm; // 0 on a single device
  private volatile boolean aborted;
  private TensorShard shard = TensorShard.WHOLE;
  private ExpertShard experts; // null unless an expert-parallel rank

  /** Joins the group's communicator as the spec's rank on {@code gpu} (every rank joins at once). */
  void join(TensorGroupSpec spec, GpuInfo gpu) {
    if (comm != 0) throw new IllegalStateException(gpu.label() + " already is a tensor-parallel rank");
    if (!Nccl.isAvailable()) throw new IllegalStateException(Nccl.unavailabilityCause());
    String kind = spec.parallelism() == Parallelism.EXPERT ? "expert-parallel" : "tensor-parallel";
    try {
      comm = NcclCommunicator.commInitRank(spec.shard().size(), spec.id(), spec.shard().rank(), gpu.index(),
          spec.timeout());
    } catch (RuntimeException e) {
      throw new IllegalStateException(kind + " rank " + spec.shard().rank() + " of " + spec.shard().size() + " on "
          + gpu.label() + ": " + e.getMessage(), e);
    }
    if (spec.parallelism() == Parallelism.EXPERT) {
      experts = spec.expertShard();
    } else {
      shard = spec.shard();
    }
  }

  /** The heads and columns held here (whole unless a tensor-parallel rank). */
  TensorShard shard() {
    return shard;
  }

  /** The experts held here; null unless an expert-parallel rank. */
  ExpertShard experts() {
    return experts;
  }

  /**
   * The all-reduce of (count) float32 at a device address over the group, on {@code stream}
   * (captured into graphs like any launch); null on a single device.
   */
  LayerStack.PartialSums sums(CudaStream stream) {
    if (comm == 0) return null;
    long c = comm;
    long streamAddress = NativeStream.address(stream);
    return (address, count) -> Nccl.allReduce(address, address, count, Nccl.DataType.FLOAT32, streamAddress, c);
  }

  /**
   * An expert-parallel rank's collectives for its MoE layers, holding experts {@code [first,
   * end)} of {@code numExperts}; null unless an expert-parallel rank.
   */
  MoeLayerKernels.ExpertGroup expertGroup(CudaStream stream, int numExperts) {
    if (experts == null) return null;
    long c = comm;
    long streamAddress = NativeStream.address(stream);
    int rank = experts.rank();
    int size = experts.size();
    // int32 experts and float32 weights both travel as 4-byte words: a send reduces nothing.
    MoeLayerKernels.RoutingShare share = (expertIds, weights, count) -> {
      Nccl.group(() -> {
        for (int peer = 1; peer < size; peer++) {
          if (rank == 0) {
            Nccl.send(expertIds, count, Nccl.DataType.FLOAT32, peer, streamAddress, c);
            Nccl.send(weights, count, Nccl.DataType.FLOAT32, peer, streamAddress, c);
          } else if (rank == peer) {
            Nccl.recv(expertIds, count, Nccl.DataType.FLOAT32, 0, streamAddress, c);
            Nccl.recv(weights, count, Nccl.DataType.FLOAT32, 0, streamAddress, c);
          }
        }
      }, c);
    };
    return new MoeLayerKernels.ExpertGroup(experts.firstExpert(numExperts), experts.endExpert(numExperts),
        sums(stream), share);
  }

  /** Releases a stream stuck in a collective on a failed peer. */
  void abort() {
    long c = comm;
    if (c != 0 && !aborted) {
      aborted = true;
      NcclCommunicator.commAbort(c);
    }
  }

  boolean aborted() {
    return aborted;
  }

  /** Destroys the communicator (after the stream drained); nothing once aborted. */
  void close() {
    try {
      if (comm != 0 && !aborted) NcclCommunicator.commDestroy(comm, Duration.ofSeconds(10));
    } finally {
      comm = 0;
    }
  }
}
