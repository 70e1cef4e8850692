package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.WeightSource;
import io.decodefleet.kernels.cuda.DummyWeightsParams;
import io.decodefleet.kernels.cuda.Kernel;
import java.util.Optional;

/**
 * The model's weights in one device allocation, laid out by a {@link WeightLayout}: made on the
 * device by the dummy-weight kernel (no weight byte crosses the host), or a checkpoint's bf16
 * tensors uploaded through pinned staging.
 */
final class DeviceWeights implements AutoCloseable {

  private final WeightLayout layout;
  private final DeviceBuffer arena;

  private DeviceWeights(WeightLayout layout, DeviceBuffer arena) {
    this.layout = layout;
    this.arena = arena;
  }

  /**
   * The weights {@code load} names at {@code layout}'s places: made by the dummy-weight kernel, or
   * uploaded from the checkpoint ({@link CheckpointUpload}); refused with one line when the load
   * asks for what this backend lacks ({@link #unsupported}).
   */
  static DeviceWeights load(CudaContext ctx, KernelModule kernels, CudaStream stream, WeightLayout layout,
      ModelLoad load) {
    unsupported(load).ifPresent(why -> {
      throw new IllegalArgumentException(ctx.gpu().label() + ": " + why);
    });
    if (load.weights() instanceof WeightSource.Checkpoint c) {
      DeviceBuffer arena = ctx.allocate(layout.totalBytes());
      try {
        CheckpointUpload.upload(ctx, stream, layout, c.checkpoint(), arena);
        return new DeviceWeights(layout, arena);
      } catch (RuntimeException e) {
        arena.close();
        throw e;
      }
    }
    return materialise(ctx, kernels, stream, layout, ((WeightSource.Dummy) load.weights()).seed());
  }

  /** Why this backend cannot hold {@code load}'s weights or KV cache as asked, or empty when it can. */
  static Optional<String> unsupported(ModelLoad load) {
    if (load.fp8Weights()) {
      return Optional.of("FP8 weights need an FP8 GEMM, which the CUDA backend does not have yet (the CPU backend"
          + " runs them: --backend cpu)");
    }
    if (load.kvCacheDtype() != ModelSpec.KvCacheDtype.AUTO) {
      return Optional.of("the CUDA backend's KV cache is bf16 only (--kv-cache-dtype fp8 runs on the CPU backend)");
    }
    if (load.config().attentionBias()) {
      return Optional.of("the CUDA backend adds no q/k/v projection biases (Qwen2) yet (the CPU backend does)");
    }
    return Optional.empty();
  }

  /** Allocates the layout's bytes and enqueues one fill per tensor (piecewise past 2^30 elements). */
  static DeviceWeights materialise(CudaContext ctx, KernelModule kernels, CudaStream stream, WeightLayout layout,
      long seed) {
    DeviceBuffer arena = ctx.allocate(layout.totalBytes());
    try {
      for (WeightLayout.Tensor t : layout.tensors()) {
        io.decodefleet.agent.engine.tp.TensorShard.Window w = t.window();
        if (w.cols() > 0) {
          // A rank's column slice: one windowed launch (slices are far below MAX_N elements).
          DummyWeightsParams p = DummyWeightsParams.window(arena.address(t.byteOffset()),
              Math.toIntExact(t.elements()), seed, t.tensorId(), w.base(), w.cols(), w.rowStride(), t.scale(),
              t.offset());
          kernels.launch(Kernel.DUMMY_WEIGHTS, p.launch(), p, stream);
          continue;
        }
        for (long first = 0; first < t.elements(); first += DummyWeightsParams.MAX_N) {
          int n = (int) Math.min(DummyWeightsParams.MAX_N, t.elements() - first);
          long out = arena.address(t.byteOffset() + first * WeightLayout.ELEMENT_BYTES);
          DummyWeightsParams p = DummyWeightsParams.of(out, n, seed, t.tensorId(), w.base() + first, t.scale(),
              t.offset());
          kernels.launch(Kernel.DUMMY_WEIGHTS, p.launch(), p, stream);
        }
      }
      stream.synchronize("materialising " + layout.tensors().size() + " weight tensors");
      return new DeviceWeights(layout, arena);
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  WeightLayout layout() {
    return layout;
  }

  /** Device address of the weight byte at {@code offset} (an offset the layout gave). */
  long address(long offset) {
    return arena.address(offset);
  }

  long bytes() {
    return arena.bytes();
  }

  @Override
  public void close() {
    arena.close();
  }
}
