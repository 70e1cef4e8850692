package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.WeightSource;
import io.decodefleet.kernels.cuda.DummyWeightsFp8Params;
import io.decodefleet.kernels.cuda.DummyWeightsParams;
import io.decodefleet.kernels.cuda.Kernel;
import java.util.Optional;

/**
 * The model's weights in one device allocation, laid out by a {@link WeightLayout}: made on the
 * device by the dummy-weight kernel (no weight byte crosses the host), or a checkpoint's tensors
 * uploaded through pinned staging. With FP8 weights the projections are e4m3 codes with row
 * scales: a dummy projection is quantized on the device (an amax pass over the full tensor, then
 * the codes: fp8_weights.cu), a checkpoint's as {@link WeightStaging} says.
 */
final class DeviceWeights implements AutoCloseable {

  private final WeightLayout layout;
  private final DeviceBuffer arena;
  private final DeviceBuffer widened; // FP8: one projection as bf16, for prefill GEMMs; null for bf16

  private final String origin;

  private DeviceWeights(CudaContext ctx, WeightLayout layout, DeviceBuffer arena, String origin) {
    this.origin = origin;
    this.layout = layout;
    this.arena = arena;
    DeviceBuffer w = null;
    if (layout.fp8()) {
      try {
        w = ctx.allocate(layout.largestProjectionElements() * WeightLayout.ELEMENT_BYTES);
        w.fill32(0); // timed by the GEMM dispatch before any prefill writes it
      } catch (RuntimeException e) {
        if (w != null) w.close();
        arena.close();
        throw e;
      }
    }
    this.widened = w;
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
    if (layout.fp8() != load.fp8Weights()) {
      throw new IllegalArgumentException("the weight layout's FP8 projections (" + layout.fp8()
          + ") must be what the load asks for (" + load.fp8Weights() + ")");
    }
    for (WeightLayout.Tensor t : layout.tensors()) {
      if (t.fp8() && t.cols() % 16 != 0) {
        throw new IllegalArgumentException(ctx.gpu().label() + ": FP8 weights need rows of a multiple of 16 elements"
            + " (the FP8 GEMM reads 16 codes at a time), but " + t.kind().tensor().name(Math.max(0, t.layer()))
            + " has rows of " + t.cols() + " here");
      }
    }
    if (load.weights() instanceof WeightSource.Checkpoint c) {
      DeviceBuffer arena = ctx.allocate(layout.totalBytes());
      try {
        CheckpointUpload.Outcome outcome = CheckpointUpload.upload(ctx, stream, layout, c.checkpoint(), arena);
        return new DeviceWeights(ctx, layout, arena, outcome.describe());
      } catch (RuntimeException e) {
        arena.close();
        throw e;
      }
    }
    return materialise(ctx, kernels, stream, layout, ((WeightSource.Dummy) load.weights()).seed());
  }

  /** Why this backend cannot hold {@code load}'s weights or KV cache as asked, or empty when it can. */
  static Optional<String> unsupported(ModelLoad load) {
    if (load.config().isMoe() && load.fp8Weights()) {
      return Optional.of("the CUDA backend holds a mixture of experts' experts in bf16 only (no FP8 experts yet; the"
          + " CPU backend has them)");
    }
    return Optional.empty();
  }

  /** Allocates the layout's bytes and enqueues one fill per tensor (piecewise past 2^30 elements). */
  static DeviceWeights materialise(CudaContext ctx, KernelModule kernels, CudaStream stream, WeightLayout layout,
      long seed) {
    DeviceBuffer arena = ctx.allocate(layout.totalBytes());
    try (DeviceBuffer amax = ctx.allocate(4L * layout.tensors().size())) {
      amax.fill32(0);
      int index = 0;
      for (WeightLayout.Tensor t : layout.tensors()) {
        if (t.fp8()) {
          quantise(kernels, stream, arena, t, seed, amax.address(4L * index++));
          continue;
        }
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
          long out = arena.address(t.byteOffset() + first * t.elementBytes());
          DummyWeightsParams p = DummyWeightsParams.of(out, n, seed, t.tensorId(), w.base() + first, t.scale(),
              t.offset());
          kernels.launch(Kernel.DUMMY_WEIGHTS, p.launch(), p, stream);
        }
      }
      stream.synchronize("materialising " + layout.tensors().size() + " weight tensors");
      return new DeviceWeights(ctx, layout, arena, "made on the device");
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  /**
   * A dummy projection as FP8: the amax pass over every element of the full tensor (so that a
   * rank's slice has the single device's scale), then the codes of this layout's window and its
   * row scales (written by the first piece).
   */
  private static void quantise(KernelModule kernels, CudaStream stream, DeviceBuffer arena, WeightLayout.Tensor t,
      long seed, long amax) {
    long scales = arena.address(t.scaleOffset());
    for (long first = 0; first < t.fullElements(); first += DummyWeightsParams.MAX_N) {
      int n = (int) Math.min(DummyWeightsParams.MAX_N, t.fullElements() - first);
      DummyWeightsFp8Params p = DummyWeightsFp8Params.of(DummyWeightsParams.of(arena.address(t.byteOffset()), n,
          seed, t.tensorId(), first, t.scale(), t.offset()), amax, scales, 0);
      kernels.launch(Kernel.DUMMY_WEIGHTS_AMAX, p.launch(), p, stream);
    }
    io.decodefleet.agent.engine.tp.TensorShard.Window w = t.window();
    if (w.cols() > 0) {
      DummyWeightsParams window = DummyWeightsParams.window(arena.address(t.byteOffset()),
          Math.toIntExact(t.elements()), seed, t.tensorId(), w.base(), w.cols(), w.rowStride(), t.scale(), t.offset());
      DummyWeightsFp8Params p = DummyWeightsFp8Params.of(window, amax, scales, t.rows());
      kernels.launch(Kernel.DUMMY_WEIGHTS_FP8, p.launch(), p, stream);
      return;
    }
    for (long first = 0; first < t.elements(); first += DummyWeightsParams.MAX_N) {
      int n = (int) Math.min(DummyWeightsParams.MAX_N, t.elements() - first);
      DummyWeightsFp8Params p = DummyWeightsFp8Params.of(DummyWeightsParams.of(arena.address(t.byteOffset() + first),
          n, seed, t.tensorId(), w.base() + first, t.scale(), t.offset()), amax, scales, first == 0 ? t.rows() : 0);
      kernels.launch(Kernel.DUMMY_WEIGHTS_FP8, p.launch(), p, stream);
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

  /** FP8: the bf16 scratch a prefill projection widens its weight into; -1 for bf16 weights. */
  long widenedScratch() {
    return widened == null ? -1 : widened.address(0);
  }

  /** Bytes of that scratch (0 for bf16 weights). */
  long widenedBytes() {
    return widened == null ? 0 : widened.bytes();
  }

  /** "made on the device", or the checkpoint upload's bytes, time and rate. */
  String origin() {
    return origin;
  }

  /** "bf16" or e.g. "fp8 e4m3 projections (3.75 GiB of codes and scales) + bf16 embedding, norms, head". */
  String describe() {
    if (!layout.fp8()) return "bf16";
    return String.format(java.util.Locale.ROOT, "fp8 e4m3 projections (%.2f GiB with their row scales; a %.0f MiB"
        + " bf16 scratch for prefill projections that widen) + bf16 embedding, norms and head", layout.fp8Bytes() / GIB,
        widenedBytes() / 1048576.0);
  }

  private static final double GIB = 1024.0 * 1024 * 1024;

  @Override
  public void close() {
    try {
      if (widened != null) widened.close();
    } finally {
      arena.close();
    }
  }
}
