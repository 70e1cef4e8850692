package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.driver.CudaGraph;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.EventTimer;
import io.decodefleet.agent.tools.selfcheck.DeviceHarness;
import io.decodefleet.kernels.cuda.DummyWeightsFp8Params;
import io.decodefleet.kernels.cuda.DummyWeightsParams;
import io.decodefleet.kernels.cuda.FillParams;
import io.decodefleet.kernels.cuda.GemvFp8Params;
import io.decodefleet.kernels.cuda.Kernel;
import java.util.stream.IntStream;

/**
 * Helpers for benchmark inputs and timing: random device tensors made on the device, the number
 * of input sets that keeps the L2 from holding them, and graph-based timing.
 */
final class BenchPool {

  /** Rotate over at least three L2s' worth of inputs, so every launch reads from HBM. */
  static final int L2_MULTIPLE = 3;
  static final int MAX_SETS = 64;
  /**
   * Launches per captured graph: many, so launch gaps shrink to the graph's and the graph's own
   * launch latency (a few µs, in every timed replay) is under 1% of a 10 µs kernel's share.
   */
  static final int MIN_LAUNCHES = 50;
  static final int WARMUP = 2;
  static final int REPS = 15;

  private BenchPool() {}

  /** How many sets of {@code setBytes} together exceed {@code L2_MULTIPLE} L2 caches. */
  static int inputSets(long setBytes, int l2Bytes) {
    long needed = (long) L2_MULTIPLE * l2Bytes;
    long sets = (needed + setBytes - 1) / setBytes;
    return (int) Math.max(1, Math.min(MAX_SETS, sets));
  }

  /** A bf16 tensor of {@code elems} uniform values in [-scale, scale), filled on the device. */
  static DeviceBuffer randomBf16(DeviceHarness h, long elems, int seed, float scale) {
    DeviceBuffer b = h.track(h.context().allocate(2L * elems));
    for (long start = 0; start < elems; start += FillParams.MAX_N) {
      int n = (int) Math.min(FillParams.MAX_N, elems - start);
      FillParams p = new FillParams(b.address(2L * start), n, seed + (int) (start >>> 30), scale);
      h.launch(Kernel.FILL_UNIFORM, p.launch(), p);
    }
    h.stream().synchronize("fill");
    return b;
  }

  /**
   * {@code elems} FP8 e4m3 codes of uniform values in [-scale, scale) (the FP8 dummy-weight passes:
   * amax, then codes), so that no code is NaN.
   */
  static DeviceBuffer randomFp8(DeviceHarness h, long elems, int seed, float scale) {
    DeviceBuffer b = h.track(h.context().allocate(Math.max(2L, elems)));
    DeviceBuffer amax = h.zeroedInts(1);
    for (Kernel k : new Kernel[] {Kernel.DUMMY_WEIGHTS_AMAX, Kernel.DUMMY_WEIGHTS_FP8}) {
      for (long start = 0; start < elems; start += DummyWeightsParams.MAX_N) {
        int n = (int) Math.min(DummyWeightsParams.MAX_N, elems - start);
        DummyWeightsFp8Params p = DummyWeightsFp8Params.of(DummyWeightsParams.of(b.address(start), n, seed, 0x6b76L,
            start, scale, 0f), amax.address(0), amax.address(0), 0);
        h.launch(k, p.launch(), p);
      }
    }
    h.stream().synchronize("fill fp8");
    return b;
  }

  /**
   * Median µs of one call: {@code launches} calls ({@code call.accept(i)} enqueues call i) are
   * captured in one graph, whose replays are timed with events.
   */
  static double graphMedianUs(DeviceHarness h, int launches, java.util.function.IntConsumer call) {
    try (CudaGraph graph = CudaGraph.capture(h.stream(), () -> {
      for (int i = 0; i < launches; i++) {
        call.accept(i);
      }
    })) {
      double[] us = EventTimer.timeUs(h.stream(), WARMUP, REPS, () -> graph.launch(h.stream()));
      return EventTimer.median(us) / launches;
    }
  }

  /**
   * Median µs of one GEMV launch as {@link GemvFp8Params#plan} plans {@code params} (set i % sets at launch i, on
   * the tensor cores where {@code mma} and the shape fits): {@link #graphMedianUs}.
   */
  static double gemvMedianUs(DeviceHarness h, int launches, GemvFp8Params[] params, boolean mma) {
    return gemvMedianUs(h, launches, params, mma, 0);
  }

  /** As above, on the tensor cores with {@code taskWarps} warps a task (0: as planned). */
  static double gemvMedianUs(DeviceHarness h, int launches, GemvFp8Params[] params, boolean mma, int taskWarps) {
    GemvFp8Params.Launch[] plans = new GemvFp8Params.Launch[params.length];
    for (int i = 0; i < params.length; i++) plans[i] = gemvPlan(h, params[i], mma, taskWarps);
    return graphMedianUs(h, launches, i -> {
      GemvFp8Params.Launch l = plans[i % plans.length];
      h.launch(l.kernel(), l.shape(), l.params());
    });
  }

  /**
   * The warps a task other than the plan's for {@code p} on the tensor cores (1, 2, 4, 8 but the planned one), to
   * time beside it; none where the plan is not on the tensor cores.
   */
  static int[] otherTaskWarps(DeviceHarness h, GemvFp8Params p, boolean mma) {
    int planned = gemvPlan(h, p, mma, 0).params().taskWarps();
    return planned == 0 ? new int[0] : IntStream.of(1, 2, 4, 8).filter(w -> w != planned).toArray();
  }

  /** How the backend plans {@code p} on this GPU ({@code taskWarps} 0), or with that many warps a task. */
  static GemvFp8Params.Launch gemvPlan(DeviceHarness h, GemvFp8Params p, boolean mma, int taskWarps) {
    return p.plan(mma, h.kernels()::slots, h.gpu().smCount(), taskWarps);
  }
}
