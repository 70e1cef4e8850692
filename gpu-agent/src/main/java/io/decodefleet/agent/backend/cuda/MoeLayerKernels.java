package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.driver.PinnedBuffer;
import io.decodefleet.agent.engine.ExpertLoad;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.MoeConfig;
import io.decodefleet.agent.engine.MoeRouterPolicy;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.KernelParams;
import io.decodefleet.kernels.cuda.LaunchShape;
import io.decodefleet.kernels.cuda.MoeCombineParams;
import io.decodefleet.kernels.cuda.MoeExpertGemmParams;
import io.decodefleet.kernels.cuda.MoePermuteParams;
import io.decodefleet.kernels.cuda.MoeRouteParams;
import io.decodefleet.kernels.reference.ExpertPermutation;
import java.nio.ByteBuffer;

/**
 * A mixture of experts' MLP on the device, in place of the dense gate_up, SwiGLU and down: the
 * router's gate GEMM through the GEMM dispatch (float32 logits), then moe.cu's router, permutation,
 * grouped gate_up + SwiGLU and down GEMMs (on tensor cores, moe_prefill.cu, from {@link
 * MoeExpertGemmParams#TENSOR_CORE_MIN_ROWS} launched rows), and the weighted combine into the
 * layer's delta. Nothing
 * here synchronises or asks the host about the routing, so the layer is captured into the decode
 * graphs: every grid is sized for the step's launched rows and every expert, and the kernels read
 * the real row count and each expert's rows from device memory.
 *
 * <p>The tokens each expert took and dropped, per layer, stay in device memory (the permutation
 * writes them) and come back with the step's outputs ({@link #enqueueLoadCopy}), one copy on the
 * step's stream before its last synchronisation.
 */
final class MoeLayerKernels implements AutoCloseable {

  /**
   * Byte offsets of the MoE scratch, for up to {@code rows} launched rows.
   */
  record Scratch(long experts, long weights, long skip, long logits, long offsets, long tokenOf, long rowOf,
      long load, long capacities, long act, long y, long bytes) {

    static Scratch of(ModelConfig c, int rows) {
      MoeConfig m = c.moe();
      long pairs = (long) rows * m.expertsPerToken();
      long layers = c.numHiddenLayers();
      // Routing first, one slice a layer: what the parity tool reads back, or gives in place of the router's.
      long at = 0;
      long experts = at;
      at = next(at, 4L * layers * pairs); // (layers, rows, k) int32
      long weights = at;
      at = next(at, 4L * layers * pairs); // (layers, rows, k) float32
      long skip = at;
      at = next(at, 4); // (1) int32: non-zero while a given routing stands in for the router
      long logits = at;
      at = next(at, 4L * rows * m.numExperts()); // (rows, experts) float32
      long offsets = at;
      at = next(at, 4L * (m.numExperts() + 1)); // (experts + 1) int32
      long tokenOf = at;
      at = next(at, 4L * pairs); // (rows * k) int32
      long rowOf = at;
      at = next(at, 4L * pairs); // (rows, k) int32
      long load = at;
      at = next(at, 8L * c.numHiddenLayers() * m.numExperts()); // (layers, experts, 2) int32
      long capacities = at;
      at = next(at, 4L * (rows + 1)); // (rows + 1) int32
      long act = at;
      at = next(at, 2L * pairs * m.moeIntermediateSize()); // (rows * k, inter) bf16
      long y = at;
      at = next(at, 2L * pairs * c.hiddenSize()); // (rows * k, hidden) bf16
      return new Scratch(experts, weights, skip, logits, offsets, tokenOf, rowOf, load, capacities, act, y, at);
    }

    private static long next(long at, long bytes) {
      return (at + bytes + 255) / 256 * 256;
    }
  }

  private final ModelConfig c;
  private final MoeConfig m;
  private final KernelModule kernels;
  private final CudaStream stream;
  private final int maxRows;
  private final boolean capacityBounded;
  private final Scratch at;
  private final DeviceBuffer scratch;
  private final PinnedBuffer loadHost; // (layers, experts, 2) int32
  private ExpertLoad last;

  MoeLayerKernels(CudaContext ctx, KernelModule kernels, CudaStream stream, ModelConfig config,
      MoeRouterPolicy policy, int maxRows) {
    this.c = config;
    this.m = config.moe();
    this.kernels = kernels;
    this.stream = stream;
    this.maxRows = maxRows;
    this.capacityBounded = policy.capacityBounded();
    this.at = Scratch.of(config, maxRows);
    this.scratch = ctx.allocate(at.bytes());
    try {
      scratch.fill32(0);
      if (capacityBounded) upload(ctx, capacities(policy, m, maxRows));
      this.loadHost = PinnedBuffer.allocate(ctx, 8L * c.numHiddenLayers() * m.numExperts());
    } catch (RuntimeException e) {
      scratch.close();
      throw e;
    }
  }

  private void upload(CudaContext ctx, int[] capacities) {
    try (PinnedBuffer host = PinnedBuffer.allocate(ctx, 4L * capacities.length)) {
      host.bytes().asIntBuffer().put(capacities);
      host.copyTo(scratch, at.capacities(), 4L * capacities.length, stream);
      stream.synchronize("uploading the expert capacities");
    }
  }

  /**
   * Each live row count's capacity per expert, 0..{@code maxRows}: the CPU reference's rule
   * ({@code ExpertPermutation.capacity}) evaluated here once, so the device reads the same integers
   * as the CPU backend computes, whatever the step's size.
   */
  static int[] capacities(MoeRouterPolicy policy, MoeConfig m, int maxRows) {
    int[] out = new int[maxRows + 1];
    for (int rows = 0; rows <= maxRows; rows++) {
      out[rows] = ExpertPermutation.capacity(policy.capacityFactor(), rows, m.expertsPerToken(), m.numExperts());
    }
    return out;
  }

  /**
   * The first half of layer {@code layer}'s sparse MLP: gate logits, routing, permutation, and
   * the routed experts' gate_up GEMMs with SwiGLU into the scratch's act rows.
   *
   * @param rows rows launched; {@code liveRows} the device address of the real row count
   * @param x (rows, hidden) bf16, the post-attention normed states
   */
  void dispatch(Projections projections, DeviceWeights w, WeightLayout.LayerWeights lw, int layer, int rows,
      long liveRows, long x) {
    requireRows(rows);
    int e = m.numExperts();
    int k = m.expertsPerToken();
    int h = c.hiddenSize();
    long experts = address(at.experts() + slice(layer));
    projections.project(address(at.logits()), e, x, w.address(lw.router()), rows, e, h, true);
    MoeRouteParams route = new MoeRouteParams(experts, address(at.weights() + slice(layer)), address(at.logits()),
        liveRows, address(at.skip()), rows, e, k, e, m.normTopkProb() ? 1 : 0);
    launch(Kernel.MOE_ROUTE, route.launch(), route);
    MoePermuteParams permute = new MoePermuteParams(address(at.offsets()), address(at.tokenOf()),
        address(at.rowOf()), address(at.load() + 8L * layer * e), experts, liveRows,
        capacityBounded ? address(at.capacities()) : 0, rows, e, k);
    launch(Kernel.MOE_PERMUTE, permute.launch(), permute);
    MoeExpertGemmParams gateUp = MoeExpertGemmParams.gateUp(address(at.act()), x, w.address(lw.expertGateUp()),
        address(at.offsets()), address(at.tokenOf()), m.moeIntermediateSize(), h, h, e);
    Kernel kernel = MoeExpertGemmParams.gateUpKernel(rows);
    launch(kernel, gateUp.launch(kernel, rows), gateUp);
  }

  /**
   * The second half: the routed experts' down GEMMs, then each live row's weighted combine into
   * {@code out} (rows, hidden) bf16 (padding rows get zeros).
   */
  void combine(DeviceWeights w, WeightLayout.LayerWeights lw, int layer, int rows, long liveRows, long out) {
    requireRows(rows);
    int e = m.numExperts();
    int h = c.hiddenSize();
    MoeExpertGemmParams down = MoeExpertGemmParams.down(address(at.y()), address(at.act()),
        w.address(lw.expertDown()), address(at.offsets()), h, m.moeIntermediateSize(), e);
    Kernel kernel = MoeExpertGemmParams.downKernel(rows);
    launch(kernel, down.launch(kernel, rows), down);
    MoeCombineParams combine = new MoeCombineParams(out, address(at.y()), address(at.rowOf()),
        address(at.weights() + slice(layer)), liveRows, rows, h, m.expertsPerToken());
    launch(Kernel.MOE_COMBINE, combine.launch(), combine);
  }

  /** Byte offset of layer {@code layer}'s (rows, k) slice of the routing. */
  private long slice(int layer) {
    return 4L * layer * maxRows * m.expertsPerToken();
  }

  /**
   * From the next step on, every layer uses {@code experts} and {@code weights} (layers x (rows, k),
   * the first {@code rows} rows) instead of routing: the router kernel leaves them in place (eager
   * steps and graph replays alike); null: route again. Synchronises the stream.
   */
  void give(int rows, int[][] experts, float[][] weights) {
    if (experts != null) {
      requireRows(rows);
      int k = m.expertsPerToken();
      try (PinnedBuffer host = PinnedBuffer.allocate(kernels.context(), at.skip())) {
        ByteBuffer b = host.bytes();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
          for (int i = 0; i < rows * k; i++) {
            b.putInt((int) (at.experts() + slice(l) + 4L * i), experts[l][i]);
            b.putFloat((int) (at.weights() + slice(l) + 4L * i), weights[l][i]);
          }
        }
        host.copyTo(scratch, 0, at.skip(), stream);
        stream.synchronize("giving the MoE layers a routing");
      }
    }
    try (PinnedBuffer flag = PinnedBuffer.allocate(kernels.context(), 4)) {
      flag.bytes().putInt(0, experts != null ? 1 : 0);
      flag.copyTo(scratch, at.skip(), 4, stream);
      stream.synchronize(experts != null ? "holding the given MoE routing" : "routing on the device again");
    }
  }

  /**
   * The routing of the last step's first {@code rows} rows, layer by layer: (rows, k) experts and
   * weights each, as the router wrote them (or as given). Synchronises the stream.
   */
  Routing routing(int rows) {
    requireRows(rows);
    int k = m.expertsPerToken();
    int layers = c.numHiddenLayers();
    try (PinnedBuffer host = PinnedBuffer.allocate(kernels.context(), at.skip())) {
      host.copyFrom(scratch, 0, at.skip(), stream);
      stream.synchronize("reading the MoE routing back");
      ByteBuffer b = host.bytes();
      int[][] experts = new int[layers][rows * k];
      float[][] weights = new float[layers][rows * k];
      for (int l = 0; l < layers; l++) {
        for (int i = 0; i < rows * k; i++) {
          experts[l][i] = b.getInt((int) (at.experts() + slice(l) + 4L * i));
          weights[l][i] = b.getFloat((int) (at.weights() + slice(l) + 4L * i));
        }
      }
      return new Routing(experts, weights);
    }
  }

  /** A step's routing per layer: (layers) x (rows, k) experts and their weights. */
  record Routing(int[][] experts, float[][] weights) {}

  /** Enqueues the copy of every layer's expert load of the step now on the stream. */
  void enqueueLoadCopy() {
    loadHost.copyFrom(scratch, at.load(), loadHost.size(), stream);
  }

  /** After the stream synchronised past {@link #enqueueLoadCopy}: that step's load becomes the last. */
  void takeLoad() {
    ByteBuffer b = loadHost.bytes();
    int cells = c.numHiddenLayers() * m.numExperts();
    long[] tokens = new long[cells];
    long[] dropped = new long[cells];
    for (int i = 0; i < cells; i++) {
      tokens[i] = b.getInt(8 * i);
      dropped[i] = b.getInt(8 * i + 4);
    }
    last = new ExpertLoad(c.numHiddenLayers(), m.numExperts(), tokens, dropped);
  }

  /** The last counted step's load; null before the first. */
  ExpertLoad lastLoad() {
    return last;
  }

  long scratchBytes() {
    return scratch.bytes();
  }

  private void requireRows(int rows) {
    if (rows > maxRows) {
      throw new IllegalArgumentException(rows + " rows exceed the MoE scratch's " + maxRows);
    }
  }

  private long address(long offset) {
    return scratch.address(offset);
  }

  private void launch(Kernel kernel, LaunchShape shape, KernelParams p) {
    kernels.launch(kernel, shape, p, stream);
  }

  @Override
  public void close() {
    try {
      if (loadHost != null) loadHost.close();
    } finally {
      scratch.close();
    }
  }
}
