package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.backend.cuda.driver.CopyBandwidth;
import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.driver.CudaDriver;
import io.decodefleet.agent.backend.cuda.driver.CudaException;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.kv.CudaKvGroupMember;
import io.decodefleet.agent.backend.cuda.kv.Fp8KvScales;
import io.decodefleet.agent.backend.cuda.kv.KvPool;
import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.StepProfile;
import io.decodefleet.agent.engine.StepTiming;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.agent.engine.tp.TensorGroupSpec;
import io.decodefleet.agent.engine.tp.TensorParallelRank;
import io.decodefleet.agent.engine.tp.TensorShard;
import io.decodefleet.agent.nccl.Nccl;
import io.decodefleet.kernels.cuda.Fatbin;
import java.util.List;
import java.util.Optional;
import jcuda.driver.CUresult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Llama decoder on one GPU: bf16 or FP8 weights and KV cache (docs/fp8.md), float32
 * accumulation, the kernels of {@code decodefleet-kernels}.
 *
 * <p><b>Design.</b>
 * <ul>
 *   <li>Threading: the backend opens (retains) its GPU's primary context on the thread that
 *       constructs it, the agent's engine thread, and every later call comes from that thread; the
 *       context is made current nowhere else. Graph capture bars only this thread from unsafe calls.
 *   <li>Weights: made on the GPU by the dummy-weight kernel, which computes the engine's
 *       counter-based hash element for element ({@link WeightLayout} says where each tensor goes,
 *       with q/k/v and gate/up fused row-wise); they equal the CPU backend's up to bf16 rounding.
 *   <li>Memory: weights, then the activation workspace for {@code maxStepTokens} rows, then the KV pool from what
 *       remains of {@code gpuMemoryFraction * total} (a fixed reserve kept for graphs and staging).
 *   <li>Inputs: every step's int32 inputs are packed into pinned host memory ({@link StepInputs}) and moved by one
 *       host-to-device copy; logits come back bf16 into pinned memory and are widened to float32 on the host. {@link
 *       #forwardGreedy} takes the argmax on the device instead and copies back only token ids; {@link #forwardSampled}
 *       draws each row's token on the device by its sampling params (sample.cu), also copying back only token ids.
 *   <li>Attention ({@link StepPlan}): spans of prompts starting at position 0 go through the causal
 *       prefill kernel; continued spans (later prompt chunks, prefix-cache hits) of at least one of
 *       its CTAs' rows (64 / group) through the paged prefill kernel, which attends a span's rows to
 *       its cached prefix in one pass; the other rows (decode tokens, short spans) through the
 *       paged decode kernel, one row per kernel "sequence"; the last two after the step's K/V were
 *       appended. The rows run in that group
 *       order (sample rows renumbered, so logits come back in the batch's order). Head dims other
 *       than 64/128 (the tiny preset's 32) use the plain paged kernel for every row.
 *   <li>Decode paths: a step runs as a graph replay only when it is pure decode (every row its
 *       sequence's only row, all sampled; one drawn by {@link #forwardSampled} replays the greedy
 *       graph, then SAMPLE over its logits, unless {@code DECODEFLEET_SAMPLED_GRAPHS=off}), and
 *       its bucket was captured; its inputs are padded to the bucket (slot -1: padding K/V is not
 *       stored; context 1 on block 0). Mixed and prefill steps run eagerly and whole: every launch
 *       covers all rows of the step except attention, where each layer runs the prefill kernel over
 *       the fresh rows, the paged prefill kernel over the continued spans, then the decode kernel
 *       over the single rows. The step timing says which path ran.
 *   <li>Tensor parallelism: as rank r of K ({@link #joinTensorGroup}, before loading) the backend
 *       holds its {@link TensorShard} of the weights and KV heads and runs the model of that
 *       shard; its o and down projections write float32 partial sums, one NCCL float32 all-reduce
 *       on the step's stream completes each, and the next norm rounds it to bf16 as it reads it
 *       (inside the decode graphs like every other launch).
 *   <li>Expert parallelism: as rank r of K of an expert-parallel group the backend holds experts
 *       {@code [r E/K, (r+1) E/K)} of every layer and everything else whole, attends and routes
 *       every row, runs its own experts and all-reduces each MoE layer's float32 output
 *       ({@link MoeLayerKernels}, docs/moe.md).
 * </ul>
 */
public final class CudaBackend implements TensorParallelRank {

  private static final Logger LOG = LoggerFactory.getLogger(CudaBackend.class);
  /**
   * Bound on the per-row relative L2 error of the logits against the float32 CPU backend: the
   * backend's numeric tolerance, which the parity tools and the engine's recompute check read. A host
   * emulation of the backend's bf16 storage (weights, every activation, logits) against the float32
   * CPU backend gave at worst 1.7e-2 over 128 positions of tiny and 1.0e-2 over 12 of llama3-8b-2l,
   * and argmax flips at 3 of 128 and 2 of 12 positions, all within 2.5 % of the row's largest logit;
   * a wrong kernel gives order 1.
   */
  public static final double TOLERANCE = 3e-2;
  /** Device memory kept out of the KV pool for graphs, staging and the driver's own needs. */
  static final long RESERVE_BYTES = 512L << 20;

  private final GpuInfo gpu;
  private final CudaSettings settings;
  private final CudaContext ctx;
  private final OwnedResources owned = new OwnedResources();
  private final KernelModule kernels;
  private final CudaStream stream;
  private final StepEvents events;
  private final ProfiledSteps profiled;
  private final DecodeGraphs graphs = new DecodeGraphs();
  private ModelConfig config;
  private DeviceWeights weights;
  private Workspace ws;
  private LayerStack stack;
  private StepRunner runner;
  private KvPool kv;
  private Fp8KvScales kvScales = Fp8KvScales.NONE;
  private StepTiming lastTiming;
  private String loadReport = "";
  private long weightMillis;
  private String gemmLine = "";
  private final GroupMembership group = new GroupMembership();

  /** A backend on local CUDA device {@code index}; fails with one line when there is none. */
  public static CudaBackend open(int index, CudaSettings settings) {
    CudaDevices.Discovery d = CudaDevices.discover();
    if (!d.hasDevices()) throw noDevice(index, d.reason());
    if (index < 0 || index >= d.gpus().size()) {
      throw new IllegalArgumentException("GPU " + index + " is not a CUDA device here (0.." + (d.gpus().size() - 1)
          + ")");
    }
    return new CudaBackend(d.gpus().get(index), settings);
  }

  /** Opens {@code gpu}'s context on the calling thread (the engine thread) and loads the kernels. */
  public CudaBackend(GpuInfo gpu, CudaSettings settings) {
    if (!CudaDriver.isAvailable()) {
      throw noDevice(gpu.index(), CudaDriver.unavailabilityCause());
    }
    if (!Fatbin.isPresent()) {
      throw new IllegalStateException("CUDA backend for " + gpu.label() + ": " + Fatbin.absenceReason());
    }
    this.gpu = gpu;
    this.settings = settings;
    this.ctx = CudaContext.open(gpu);
    try {
      this.kernels = own(KernelModule.load(ctx));
      this.stream = own(ctx.newStream());
      this.events = own(new StepEvents(ctx));
      this.profiled = own(new ProfiledSteps(ctx, stream));
    } catch (RuntimeException e) {
      owned.close();
      ctx.close();
      throw e;
    }
  }

  private static CudaException noDevice(int index, String reason) {
    return new CudaException("cannot start the CUDA backend on GPU " + index + ": no CUDA device: " + reason,
        CUresult.CUDA_ERROR_NO_DEVICE, "cuInit");
  }

  private <T extends AutoCloseable> T own(T resource) {
    return owned.own(resource);
  }

  @Override
  public String name() {
    return "cuda";
  }

  @Override
  public String deviceDescription() {
    return gpu.summary() + ", decode path " + settings.decodePath().label();
  }

  public GpuInfo gpu() {
    return gpu;
  }

  public CudaSettings settings() {
    return settings;
  }

  @Override
  public void loadModel(ModelLoad load) {
    ModelConfig config = group.shard().of(load.config());
    LayerStack.checkShapes(config);
    this.config = config;
    long t0 = System.nanoTime();
    WeightLayout layout = new WeightLayout(load.config(), group.shard(), load.fp8Weights(), group.experts());
    weights = own(DeviceWeights.load(ctx, kernels, stream, layout, load));
    kvScales = Fp8KvScales.of(load);
    weightMillis = (System.nanoTime() - t0) / 1_000_000;
    Projections projections = new Projections(kernels, stream, settings.gemm());
    long[] scratch = projections.scratchFor(config, settings.maxStepTokens(), settings.logitsRows());
    ws = own(new Workspace(ctx, config, settings.maxStepTokens(), settings.logitsRows(), scratch[0], scratch[1],
        AttentionSlots.maxPartialSlots(kernels, config.headDim())));
    projections.useScratch(ws.at(ws.gemmPartials), ws.at(ws.gemmCounters));
    // A tensor-parallel rank all-reduces its o and down outputs, an expert-parallel one its MoE layers'.
    LayerStack.PartialSums sums = group.experts() == null ? group.sums(stream) : null;
    MoeLayerKernels moe = config.isMoe() ? own(new MoeLayerKernels(ctx, kernels, stream, config, load.moeRouter(),
        settings.maxStepTokens(), group.expertGroup(stream, config.moe().numExperts()))) : null;
    stack = new LayerStack(config, kernels, stream, weights, ws, projections, sums, moe);
    List<GemmTuning.Site> sites = GemmTuning.sites(config, weights, ws, sums != null,
        DecodeGraphs.bucketsLargestFirst(settings.maxGraphBatch()), settings.maxStepTokens(), settings.logitsRows());
    gemmLine = GemmTuning.prepare(ctx, kernels, stream, projections, sites, settings.gemm(), this::own).describe();
    if (load.fp8Activations()) gemmLine += "; " + stack.useFp8Activations(own(Fp8Activations.open(ctx, kernels,
        stream, config, settings.maxStepTokens(), projections.cublasLt(), projections.gemv())), sites);
    ws.poison();
  }

  @Override
  public Optional<String> tensorParallelUnsupported() {
    return Nccl.isAvailable() ? Optional.empty() : Optional.of(Nccl.unavailabilityCause());
  }

  @Override
  public byte[] newTensorGroupId() {
    return Nccl.uniqueId();
  }

  /**
   * Joins the group's NCCL communicator on this (the engine's rank) thread; every rank joins at
   * once. A tensor-parallel rank then loads its shard of heads and columns, an expert-parallel
   * one its share of the experts ({@link GroupMembership}).
   */
  @Override
  public void joinTensorGroup(TensorGroupSpec spec) {
    if (config != null) throw new IllegalStateException("joinTensorGroup must come before loadModel");
    group.join(spec, gpu);
  }

  /** Aborts the group's communicator: a stream stuck in an all-reduce on a failed peer is released. */
  @Override
  public void abortTensorGroup() {
    group.abort();
  }

  /** This backend's rank and group size (rank 0 of 1 on a single device, and whole on an expert-parallel rank). */
  public TensorShard shard() {
    return group.shard();
  }

  @Override
  public int kvBlockCapacity(int blockSize) {
    requireLoaded();
    long[] mem = ctx.memoryInfo(); // {free, total}
    long used = mem[1] - mem[0];
    long budget = (long) (settings.gpuMemoryFraction() * mem[1]) - used - RESERVE_BYTES;
    long blocks = budget / KvPool.bytesPerBlock(config, blockSize, kvScales.fp8());
    return (int) Math.max(0, Math.min(Integer.MAX_VALUE, blocks));
  }

  @Override
  public void allocateKvCache(int numBlocks, int blockSize) {
    requireLoaded();
    kv = own(KvPool.allocate(ctx, config, numBlocks, blockSize, kvScales.k(), kvScales.v()));
    runner = own(new StepRunner(ctx, kernels, stream, config, settings, ws, stack, kv));
    String graphLine = "";
    if (settings.decodePath().usesGraphs()) {
      graphs.captureAll(ctx, stream, settings.maxGraphBatch(), runner::graphWarmUp);
      runner.useGraphs(graphs);
      graphLine = "; " + graphs.report().describe() + ", host path compiled in "
          + runner.warmHostPath(graphs.report().buckets()) + " ms";
    }
    events.resetGap();
    loadReport = String.format("%s: weights %.2f GiB (%s) %s, %d ms, workspace %.2f GiB for %d tokens,"
            + " KV pool %d blocks of %d (%.2f GiB, %s), attention %s, %s, decode path %s%s",
        gpu.label(), weights.bytes() / GIB, weights.describe(), weights.origin(), weightMillis, ws.bytes() / GIB,
        ws.rows, numBlocks, blockSize, kv.bytes() / GIB, kv.dtypeLabel(), runner.attentionDescription(), gemmLine,
        settings.decodePath().label() + kernels.launchLabel(), graphLine);
    LOG.info(loadReport);
  }

  private static final double GIB = 1024.0 * 1024 * 1024;

  /** What loading took and chose: weights, workspace, KV pool, GEMM dispatch, graphs (capture time and memory). */
  @Override
  public String loadReport() {
    return loadReport;
  }

  /** A mixture of experts' routing on the device (the parity tool's); null for a dense model or before loading. */
  public DeviceRouting routing() {
    return stack == null || stack.moe() == null ? null : new DeviceRouting(stack.moe(), runner::launchOrder);
  }

  @Override
  public float[] forward(ForwardBatch batch) {
    return (float[]) step(() -> runner.run(batch, false, events));
  }

  /** As {@link #forward}, but the greedy token of each sample row, chosen on the device. */
  @Override
  public int[] forwardGreedy(ForwardBatch batch) {
    return (int[]) step(() -> runner.run(batch, true, events));
  }

  /** As {@link #forwardGreedy}, each row's token drawn on the device by its params; eager (StepRunner#runSampled). */
  @Override
  public int[] forwardSampled(ForwardBatch batch, SamplingParams[] params, int[] positions) {
    return (int[]) step(() -> runner.runSampled(batch, params, positions, events));
  }

  @Override
  public Optional<String> profileUnsupported() {
    return runner == null ? Optional.of("the KV pool is not allocated") : Optional.empty();
  }

  /** An eager run of the step with CUDA events between kernel families (StepRunner#runProfiled). */
  @Override
  public StepProfile.Run forwardProfiled(ForwardBatch batch, SamplingParams[] params, int[] positions) {
    requireCache();
    var marks = profiled.next(events, weights.layout().fp8(), kvScales.fp8());
    int[] tokens = (int[]) step(() -> runner.runProfiled(batch, params, positions, events, marks));
    return new StepProfile.Run(tokens, profiled.profile(config, batch, lastTiming.gpuMicros()));
  }

  private Object step(java.util.function.Supplier<StepRunner.Result> run) {
    requireCache();
    long t0 = System.nanoTime();
    StepRunner.Result r = run.get();
    double[] gpuAndGap = events.finish();
    lastTiming = new StepTiming(r.path().label(), r.bucket(), r.launchedNanos() - t0, gpuAndGap[0], gpuAndGap[1]);
    return r.output();
  }

  @Override
  public float[] forwardWithoutCache(int[] tokens) {
    requireCache();
    events.resetGap(); // the oracle's work is not idle time between decode steps
    return runner.denseLogits(tokens);
  }

  /** KV moves between CUDA agents over NCCL: usable once the pool exists and NCCL loaded. */
  @Override
  public Optional<String> kvTransferUnsupported() {
    if (kv == null) return Optional.of("the KV pool of " + gpu.label() + " is not allocated");
    return Nccl.isAvailable() ? Optional.empty() : Optional.of(Nccl.unavailabilityCause());
  }

  @Override
  public byte[] newKvGroupId() {
    return Nccl.uniqueId();
  }

  /** A member over this backend's KV pool, for sequences up to the pool's (or the model's) length. */
  @Override
  public io.decodefleet.agent.engine.kv.KvTransport joinKvGroup(io.decodefleet.agent.engine.kv.KvGroupSpec spec) {
    requireCache();
    int maxModelLen = (int) Math.min(config.maxPositionEmbeddings(), (long) kv.numBlocks() * kv.blockSize());
    return CudaKvGroupMember.join(ctx, kernels, kv, spec, StepPlan.blocksFor(maxModelLen, kv.blockSize()));
  }

  /** bf16 against a bf16 dense recompute: parity's tolerance; an FP8 cache's or fp8-dynamic's: the CPU's for FP8. */
  @Override
  public double verifyTolerance() {
    return kvScales.fp8() || stack != null && stack.fp8Activations() ? CpuBackend.FP8_KV_TOLERANCE : TOLERANCE;
  }

  /** As vLLM: full KV blocks are cached by content and shared. */
  @Override
  public boolean defaultPrefixCaching() {
    return true;
  }

  /** As vLLM on a large GPU: 256 sequences (at most the largest captured graph bucket). */
  @Override
  public int defaultMaxNumSeqs() {
    return Math.min(256, settings.graphBucketLimit());
  }

  /** As vLLM on a large GPU: 8192 tokens a step, at most what the workspace holds. */
  @Override
  public int defaultMaxBatchedTokens() {
    return Math.min(8192, settings.maxStepTokens());
  }

  @Override
  public boolean expertLayersAllReduce() {
    return true; // MoeLayerKernels: each rank sums its experts' share of every row, one all-reduce completes it
  }

  @Override
  public io.decodefleet.agent.engine.ExpertLoad lastExpertLoad() {
    return stack == null || stack.moe() == null ? null : stack.moe().lastLoad();
  }

  @Override
  public StepTiming lastStepTiming() {
    return lastTiming;
  }

  /** Weight bytes one decode step reads (all but the embedding table, unless the head shares it). */
  public long weightBytesReadPerStep() {
    requireLoaded();
    return weights.layout().bytesReadPerStep();
  }

  /** µs of each of {@link HostParts#NAMES} in the last step if it replayed a graph; else null. */
  public double[] lastHostPartsMicros() {
    return runner == null ? null : runner.hostParts.micros();
  }

  /** Weight bytes a decode step read whose tokens reached the experts {@code routed} counts. */
  public long weightBytesReadPerStep(io.decodefleet.agent.engine.ExpertLoad routed) {
    requireLoaded();
    return weights.layout().bytesReadPerStep(routed);
  }

  public long weightBytes() {
    requireLoaded();
    return weights.layout().totalBytes();
  }

  /** Fills the whole KV pool with uniform bf16 noise: benchmarks time real data, never zeros. */
  public void fillKvCacheWithNoise(int seed) {
    requireCache();
    KvNoise.fill(ctx, kernels, stream, kv, seed);
  }

  /** Device-to-device copy bandwidth (bytes read + written per µs), as the self-test measures it. */
  public double measureCopyBytesPerUs() {
    return CopyBandwidth.measure(ctx, stream);
  }

  /** The best GEMM of the model's kind (bf16: ours or cuBLASLt's; fp8-dynamic: FP8 x FP8) on (m, k)·(n, k)ᵀ noise. */
  public GemmRate.Rate measureGemm(int m, int n, int k) {
    requireLoaded();
    return GemmRate.measure(ctx, kernels, stream, m, n, k, stack != null && stack.fp8Activations());
  }

  private void requireLoaded() {
    if (config == null) throw new IllegalStateException("loadModel has not been called");
  }

  private void requireCache() {
    if (runner == null) throw new IllegalStateException("allocateKvCache has not been called");
  }

  @Override
  public void close() {
    try {
      try {
        if (!group.aborted()) stream.synchronize("closing the CUDA backend");
      } finally {
        graphs.close();
        try {
          group.close();
        } finally {
          owned.close();
        }
      }
    } finally {
      ctx.close();
    }
  }
}
