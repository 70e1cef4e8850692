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
 * MoeExpertGemmParams#tensorCores} launched rows), and the weighted combine into the
 * layer's delta. Nothing
 * here synchronises or asks the host about the routing, so the layer is captured into the decode
 * graphs: every grid is sized for the step's launched rows and every expert, and the kernels read
 * the real row count and each expert's rows from device memory.
 *
 * <p>The tokens each expert took and dropped, per layer, stay in device memory (the permutation
 * writes them) and come back with the step's outputs ({@link #enqueueLoadCopy}), one copy on the
 * step's stream before its last synchronisation.
 *
 * <p>As an expert-parallel rank (experts {@code [first, end)} of every layer held here, the rest
 * on its peers) every rank permutes every row of the step by rank 0's routing (each layer's
 * experts and weights, sent from rank 0 to the others right after its router ran: the ranks'
 * GEMMs may have been tuned to different kernels, whose bf16 states can differ at a near tie), so
 * the ranks agree on the routing and on which pairs capacity drops; the grouped GEMMs
 * run only this rank's experts (their grids over its experts, the offsets read from its first);
 * the combine sums only pairs routed here, into a float32 partial of each row, and an all-reduce
 * over the group (NCCL, captured with the step) completes every row, which the next norm reads
 * as a tensor-parallel rank's partial sums.
 */
final class MoeLayerKernels implements AutoCloseable {

  /**
   * Byte offsets of the MoE scratch, for up to {@code rows} launched rows.
   */
  record Scratch(long experts, long weights, long skip, long logits, long offsets, long active, long tokenOf,
      long rowOf, long load, long capacities, long act, long y, long bytes) {

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
      long active = at;
      at = next(at, 4L * (m.numExperts() + 1)); // (experts + 1) int32: how many experts kept rows, then which
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
      return new Scratch(experts, weights, skip, logits, offsets, active, tokenOf, rowOf, load, capacities, act, y,
          at);
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
  private final int firstExpert; // experts [firstExpert, endExpert) are held here
  private final int endExpert;
  private final ExpertGroup group; // null on one device
  private final Scratch at;
  private final DeviceBuffer scratch;
  private final PinnedBuffer loadHost; // (layers, experts, 2) int32
  private ExpertLoad last;

  /**
   * Rank 0's routing of a layer, sent to every other rank of an expert-parallel group on the
   * stack's stream (captured into graphs): {@code count} int32 experts and float32 weights at
   * device addresses, overwritten on ranks other than 0.
   */
  interface RoutingShare {
    void fromRankZero(long experts, long weights, long count);
  }

  /**
   * An expert-parallel rank's part: experts {@code [firstExpert, endExpert)} of every layer are
   * held here; {@code sums} completes each layer's output over the group, {@code share} hands
   * rank 0's routing to the others.
   */
  record ExpertGroup(int firstExpert, int endExpert, LayerStack.PartialSums sums, RoutingShare share) {}

  /**
   * What one MoE layer of an expert-parallel rank moves at {@code rows} launched rows: {@code
   * routingWords} int32 experts and as many float32 weights from rank 0 to each other rank, and
   * {@code summedFloats} float32 all-reduced (rows, hidden).
   */
  record GroupTraffic(long routingWords, long summedFloats) {
    static GroupTraffic of(ModelConfig c, int rows) {
      return new GroupTraffic((long) rows * c.moe().expertsPerToken(), (long) rows * c.hiddenSize());
    }

    /** Bytes rank 0 sends each other rank (experts and weights). */
    long routingBytesPerPeer() {
      return 8 * routingWords;
    }

    /** Bytes of the all-reduced buffer (a ring moves 2 (K-1)/K of it in and out of each rank). */
    long summedBytes() {
      return 4 * summedFloats;
    }
  }

  MoeLayerKernels(CudaContext ctx, KernelModule kernels, CudaStream stream, ModelConfig config,
      MoeRouterPolicy policy, int maxRows) {
    this(ctx, kernels, stream, config, policy, maxRows, null);
  }

  /** {@code group}: an expert-parallel rank's; null on one device (every expert here). */
  MoeLayerKernels(CudaContext ctx, KernelModule kernels, CudaStream stream, ModelConfig config,
      MoeRouterPolicy policy, int maxRows, ExpertGroup group) {
    this.firstExpert = group == null ? 0 : group.firstExpert();
    this.endExpert = group == null ? config.moe().numExperts() : group.endExpert();
    if (firstExpert < 0 || endExpert <= firstExpert || endExpert > config.moe().numExperts()) {
      throw new IllegalArgumentException("experts [" + firstExpert + ", " + endExpert + ") are not a range of "
          + config.moe().numExperts());
    }
    this.group = group;
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
    if (group != null) {
      long words = GroupTraffic.of(c, rows).routingWords();
      group.share().fromRankZero(experts, address(at.weights() + slice(layer)), words);
    }
    MoePermuteParams permute = new MoePermuteParams(address(at.offsets()), address(at.tokenOf()),
        address(at.rowOf()), address(at.load() + 8L * layer * e), experts, liveRows,
        capacityBounded ? address(at.capacities()) : 0, address(at.active()), rows, e, k);
    launch(Kernel.MOE_PERMUTE, permute.launch(), permute);
    // Only the experts held here: expert i of the grid is expert firstExpert + i of the routing.
    MoeExpertGemmParams gateUp = routed(MoeExpertGemmParams.gateUp(address(at.act()), x,
        w.address(lw.expertGateUp()), address(at.offsets() + 4L * firstExpert), address(at.tokenOf()),
        m.moeIntermediateSize(), h, h, endExpert - firstExpert));
    Kernel kernel = MoeExpertGemmParams.gateUpKernel(rows, k, e);
    launch(kernel, gateUp.launch(kernel, rows, k), gateUp);
  }

  /**
   * The second half: the routed experts' down GEMMs, then each live row's weighted combine into
   * {@code out} (rows, hidden) (padding rows get zeros): bf16 on one device; on an expert-parallel
   * rank float32, summed over the group ({@link #outputsFloat32}).
   */
  void combine(DeviceWeights w, WeightLayout.LayerWeights lw, int layer, int rows, long liveRows, long out) {
    requireRows(rows);
    int h = c.hiddenSize();
    int k = m.expertsPerToken();
    MoeExpertGemmParams down = routed(MoeExpertGemmParams.down(address(at.y()), address(at.act()),
        w.address(lw.expertDown()), address(at.offsets() + 4L * firstExpert), h, m.moeIntermediateSize(),
        endExpert - firstExpert));
    Kernel kernel = MoeExpertGemmParams.downKernel(rows, k, m.numExperts());
    launch(kernel, down.launch(kernel, rows, k), down);
    long weights = address(at.weights() + slice(layer));
    MoeCombineParams combine = group == null
        ? new MoeCombineParams(out, address(at.y()), address(at.rowOf()), weights, liveRows, rows, h, k)
        : MoeCombineParams.partial(out, address(at.y()), address(at.rowOf()), weights, liveRows,
            address(at.experts() + slice(layer)), rows, h, k, firstExpert, endExpert);
    launch(Kernel.MOE_COMBINE, combine.launch(), combine);
    if (group != null) group.sums().allReduce(out, GroupTraffic.of(c, rows).summedFloats());
  }

  /**
   * The grouped GEMM's params with the permutation's list of experts that kept a row, so its grid
   * walks those only; an expert-parallel rank (a slice of the layer's experts) keeps the grid over its
   * own experts.
   */
  private MoeExpertGemmParams routed(MoeExpertGemmParams p) {
    return group == null ? p.withActive(address(at.active())) : p;
  }

  /** Whether the combine writes float32 (an expert-parallel rank's sums over the group) rather than bf16. */
  boolean outputsFloat32() {
    return group != null;
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
