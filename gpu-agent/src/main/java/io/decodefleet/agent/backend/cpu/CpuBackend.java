package io.decodefleet.agent.backend.cpu;

import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.FamilyTimeline;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.HostTimeline;
import io.decodefleet.agent.engine.HostWeights;
import io.decodefleet.agent.engine.KernelFamily;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.Sampler;
import io.decodefleet.agent.engine.StepBytes;
import io.decodefleet.agent.engine.StepProfile;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.agent.engine.kv.KvGroupSpec;
import io.decodefleet.agent.engine.kv.KvTransport;
import io.decodefleet.agent.engine.tp.ExpertShard;
import io.decodefleet.agent.engine.tp.Parallelism;
import io.decodefleet.agent.engine.tp.TensorGroupSpec;
import io.decodefleet.agent.engine.tp.TensorParallelRank;
import io.decodefleet.agent.engine.tp.TensorShard;
import io.decodefleet.kernels.cuda.Bf16;
import io.decodefleet.kernels.reference.CausalAttention;
import io.decodefleet.kernels.reference.Embedding;
import io.decodefleet.kernels.reference.Fp8E4m3;
import io.decodefleet.kernels.reference.Matmul;
import io.decodefleet.kernels.reference.RmsNorm;
import io.decodefleet.kernels.reference.Rope;
import io.decodefleet.kernels.reference.SwiGlu;

/**
 * The reference backend: the Llama decoder in float32 on the CPU, built from the kernels module's
 * reference ops, its MLP dense or a mixture of experts ({@link CpuMoeLayer}). Single-threaded (one
 * engine thread per agent); the numerical oracle for every GPU path. As one rank of a
 * tensor-parallel group it holds its {@link TensorShard} of the weights and completes the o and down
 * projections with the group's in-process all-reduce; as one rank of an expert-parallel group it
 * holds its {@link ExpertShard}'s experts and everything else whole, attends only the sequences the
 * shard gives it, and gathers the step's final hidden states from its peers for the logits.
 */
public final class CpuBackend implements TensorParallelRank {
  private final long kvMemoryBytes;
  private ModelConfig config;
  private double[] ropeFrequencies; // the head's RoPE frequencies (Llama 3.1's scaled ones when it has them)
  private ModelLoad load;
  private CpuWeights weights;
  private CpuKvCache kv;
  private TensorShard shard = TensorShard.WHOLE;
  private CpuTensorGroup group; // null outside a tensor-parallel or expert-parallel group
  private ExpertShard expertShard; // null outside an expert-parallel group
  private CpuMoeLayer moe; // null for a dense model
  private FamilyTimeline timeline; // set during a profiled step only
  /** Bytes System.arraycopy reads and writes per µs here, measured at the first profiled step; 0 before. */
  private static double copyBytesPerMicro;

  /**
   * KV memory of a CPU agent when the model spec leaves the pool size to the backend (kv_blocks = 0):
   * the one default for daemons, the embedded cluster and tests.
   */
  public static final long DEFAULT_KV_BYTES = 32L << 20;

  /**
   * The recompute check's relative tolerance with an FP8 KV cache ({@link #verifyTolerance}): the
   * cached decode reads e4m3 keys and values (3 mantissa bits), the dense recompute float32 ones. On
   * tiny with FP8 weights and cache they differed by at most 5.4e-2 (max-norm relative) over 4
   * sequences of 12 steps (CheckpointEngineTest); a wrong block or slot gives order 1.
   */
  public static final double FP8_KV_TOLERANCE = 0.15;

  /** A CPU agent with the default KV memory. */
  public CpuBackend() {
    this(DEFAULT_KV_BYTES);
  }

  /** @param kvMemoryBytes bytes this backend may spend on the KV pool */
  public CpuBackend(long kvMemoryBytes) {
    this.kvMemoryBytes = kvMemoryBytes;
  }

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public String deviceDescription() {
    return "cpu (float32 reference, " + Runtime.getRuntime().availableProcessors() + " cores visible)";
  }

  @Override
  public void loadModel(ModelLoad load) {
    this.config = shard.of(load.config());
    this.ropeFrequencies = config.ropeFrequencies();
    this.load = load;
    this.weights = CpuWeights.read(load, shard, expertShard);
    this.moe = config.isMoe() ? new CpuMoeLayer(config, load.moeRouter(), expertShard == null ? null : group,
        expertShard) : null;
  }

  /**
   * The recompute check's tolerance: float32's, except with an FP8 KV cache, whose rounding the
   * dense recompute (no cache at all) does not share, or under fp8-dynamic, whose per-token codes turn the
   * two paths' float differences into code steps.
   */
  @Override
  public double verifyTolerance() {
    boolean fp8 = kv != null && kv.fp8() || load != null && load.fp8Activations(); // fp8-dynamic's codes amplify too
    return fp8 ? FP8_KV_TOLERANCE : io.decodefleet.agent.engine.RecomputeVerifier.TOLERANCE;
  }

  /** What was loaded: the weights' source and precision, the KV cache's type. */
  @Override
  public String loadReport() {
    return load == null ? "" : load.describe();
  }

  @Override
  public int kvBlockCapacity(int blockSize) {
    long perBlock = config.kvBytesPerToken(CpuKvCache.elementBytes(load.kvCacheDtype())) * blockSize;
    return (int) Math.min(Integer.MAX_VALUE, kvMemoryBytes / perBlock);
  }

  @Override
  public void allocateKvCache(int numBlocks, int blockSize) {
    HostWeights w = new HostWeights(load);
    float[] kScales = new float[config.numHiddenLayers()];
    float[] vScales = new float[kScales.length];
    for (int l = 0; l < kScales.length; l++) {
      kScales[l] = w.kvScale(l, true);
      vScales[l] = w.kvScale(l, false);
    }
    kv = new CpuKvCache(config, numBlocks, blockSize, load.kvCacheDtype(), kScales, vScales);
  }

  @Override
  public float[] forward(ForwardBatch batch) {
    if (moe != null) moe.beginStep(true);
    int[] rows = attendedRows(batch.numTokens(), i -> expertShard.attends(batch.blockTables()[i][0]));
    ForwardBatch mine = rows.length == batch.numTokens() ? batch : batch.rows(rows);
    int n = mine.numTokens();
    float[] hidden = run(mine.tokens(), mine.positions(), rows, (layer, q, k, v, out) -> {
      kv.append(layer, k, v, n, mine.slotMapping());
      mark(KernelFamily.ATTENTION);
      kv.attend(layer, q, n, mine.blockTables(), mine.contextLens(), attentionScale(), out);
    });
    return logits(allRows(hidden, rows, batch.numTokens()), batch.sampleRows());
  }

  /** Rows 0..n-1, or in an expert-parallel group those {@code attended} says this rank attends. */
  private int[] attendedRows(int n, java.util.function.IntPredicate attended) {
    return java.util.stream.IntStream.range(0, n).filter(i -> expertShard == null || attended.test(i)).toArray();
  }

  /**
   * (total, hidden): the step's final hidden states of every row. An expert-parallel rank has its own
   * {@code rows} only, and takes its peers' from the group.
   */
  private float[] allRows(float[] hidden, int[] rows, int total) {
    if (expertShard == null) return hidden;
    int h = config.hiddenSize();
    float[] all = new float[total * h];
    for (Object o : group.exchange(expertShard.rank(), new Object[] {rows, hidden}, "gathering the final rows")) {
      int[] theirRows = (int[]) ((Object[]) o)[0];
      float[] theirs = (float[]) ((Object[]) o)[1];
      for (int i = 0; i < theirRows.length; i++) System.arraycopy(theirs, i * h, all, theirRows[i] * h, h);
    }
    return all;
  }

  @Override
  public io.decodefleet.agent.engine.ExpertLoad lastExpertLoad() {
    return moe == null ? null : moe.lastLoad();
  }

  /**
   * The last step's routing ({@link #forward}, or the dense {@link #forwardWithoutCache}), one {@code
   * MoeRouter.Routing} a layer over the rows this backend attends (all of them on one device); null
   * for a dense model or before a step.
   */
  public io.decodefleet.kernels.reference.MoeRouter.Routing[] lastRouting() {
    return moe == null ? null : moe.lastRouting();
  }

  @Override
  public java.util.Optional<String> profileUnsupported() {
    return kv == null ? java.util.Optional.of("the CPU backend's KV pool is not allocated")
        : java.util.Optional.empty();
  }

  /** The step on the host clock: each family from its first op to the next family's. */
  @Override
  public StepProfile.Run forwardProfiled(ForwardBatch batch, SamplingParams[] params, int[] positions) {
    double bandwidth = copyBandwidth(); // before the clock starts
    HostTimeline clock = new HostTimeline();
    long t0 = System.nanoTime();
    int[] tokens = new int[batch.numSampled()];
    timeline = clock;
    try {
      float[] logits = forward(batch);
      clock.begin(KernelFamily.SAMPLING);
      Sampler sampler = new Sampler(config.vocabSize());
      for (int i = 0; i < tokens.length; i++) tokens[i] = sampler.sample(logits, i, params[i], positions[i]);
      clock.pause();
    } finally {
      timeline = null;
    }
    double stepMicros = (System.nanoTime() - t0) / 1e3;
    return new StepProfile.Run(tokens, StepProfile.of(batch.numSampled(), stepMicros, clock.micros(),
        StepBytes.of(config, batch, Float.BYTES), bandwidth));
  }

  /** The work from here on is {@code family}'s, when a profiled step is running. */
  private void mark(KernelFamily family) {
    if (timeline != null) timeline.begin(family);
  }

  /**
   * Bytes read and written per µs by the best of five 32 MiB System.arraycopy runs: the CPU floors'
   * bandwidth, counted as the CUDA backend counts its device copy's.
   */
  public static synchronized double copyBandwidth() {
    if (copyBytesPerMicro == 0) {
      float[] from = new float[8 << 20];
      float[] to = new float[from.length];
      java.util.Arrays.fill(from, 1f);
      long best = Long.MAX_VALUE;
      for (int i = 0; i < 5; i++) {
        long t0 = System.nanoTime();
        System.arraycopy(from, 0, to, 0, from.length);
        best = Math.min(best, System.nanoTime() - t0);
      }
      copyBytesPerMicro = 2.0 * 4.0 * from.length / Math.max(1, best / 1e3);
    }
    return copyBytesPerMicro;
  }

  /** In an expert-parallel group, rank 0 attends the one sequence; the others take part in its MoE layers. */
  @Override
  public float[] forwardWithoutCache(int[] tokens) {
    if (moe != null) moe.beginStep(false);
    int[] rows = attendedRows(tokens.length, i -> expertShard.rank() == 0);
    int n = rows.length;
    int[] mine = new int[n];
    for (int i = 0; i < n; i++) mine[i] = tokens[rows[i]];
    float[] hidden = run(mine, rows.clone(), rows, (layer, q, k, v, out) -> {
      mark(KernelFamily.ATTENTION);
      CausalAttention.forward(q, k, v, n, config.numAttentionHeads(), config.numKeyValueHeads(), config.headDim(),
          attentionScale(), out);
    });
    int[] all = java.util.stream.IntStream.range(0, tokens.length).toArray();
    return logits(allRows(hidden, rows, tokens.length), all);
  }

  private float attentionScale() {
    return (float) (1.0 / Math.sqrt(config.headDim()));
  }

  /**
   * How a layer's attention gets its context: through the paged cache, or densely. Called while
   * ROPE_KV is the current family; it marks ATTENTION where the attention itself starts.
   */
  private interface Attention {
    /** q (n, qHeads, headDim), k and v (n, kvHeads, headDim) after RoPE; out (n, qHeads, headDim). */
    void attend(int layer, float[] q, float[] k, float[] v, float[] out);
  }

  /**
   * The decoder stack; returns the final-normed hidden states (n, hidden).
   *
   * @param rows (n) each token's row in the step's batch (an expert-parallel rank's MoE layers need them)
   */
  private float[] run(int[] tokens, int[] positions, int[] rows, Attention attention) {
    int n = tokens.length;
    int h = config.hiddenSize();
    int inter = config.intermediateSize();
    int qs = config.qSize();
    int kvs = config.kvSize();
    float eps = config.rmsNormEps();
    float[] residual = new float[n * h]; // (n, hidden)
    float[] normed = new float[n * h]; // (n, hidden)
    float[] q = new float[n * qs]; // (n, qHeads, headDim)
    float[] k = new float[n * kvs]; // (n, kvHeads, headDim)
    float[] v = new float[n * kvs]; // (n, kvHeads, headDim)
    float[] attn = new float[n * qs]; // (n, qHeads, headDim)
    float[] delta = new float[n * h]; // (n, hidden)
    float[] gate = new float[config.isMoe() ? 0 : n * inter]; // (n, intermediate)
    float[] up = new float[gate.length]; // (n, intermediate)

    mark(KernelFamily.EMBEDDING);
    CpuWeights.Layer[] layers = weights.layers;
    Embedding.gather(weights.embedding, config.vocabSize(), h, tokens, n, residual);
    mark(KernelFamily.NORM);
    RmsNorm.forward(residual, layers[0].inputNorm(), eps, n, h, normed);
    for (int l = 0; l < layers.length; l++) {
      CpuWeights.Layer layer = layers[l];
      mark(KernelFamily.QKV_PROJ);
      fp8Activations(normed, n, h);
      Matmul.matmulTransposed(normed, layer.qProj(), n, qs, h, q);
      Matmul.matmulTransposed(normed, layer.kProj(), n, kvs, h, k);
      Matmul.matmulTransposed(normed, layer.vProj(), n, kvs, h, v);
      CpuWeights.addBias(q, n, qs, layer.qBias());
      CpuWeights.addBias(k, n, kvs, layer.kBias());
      CpuWeights.addBias(v, n, kvs, layer.vBias());
      // The q/k norms count as rope_kv_append: the CUDA backend applies them inside that launch.
      mark(KernelFamily.ROPE_KV);
      if (layer.qNorm() != null) { // Qwen3: each head RMS-normed over head_dim before RoPE
        RmsNorm.forward(q, layer.qNorm(), eps, n * config.numAttentionHeads(), config.headDim(), q);
        RmsNorm.forward(k, layer.kNorm(), eps, n * config.numKeyValueHeads(), config.headDim(), k);
      }
      Rope.apply(q, n, config.numAttentionHeads(), config.headDim(), positions, ropeFrequencies);
      Rope.apply(k, n, config.numKeyValueHeads(), config.headDim(), positions, ropeFrequencies);
      attention.attend(l, q, k, v, attn);
      mark(KernelFamily.O_PROJ);
      fp8Activations(attn, n, qs);
      Matmul.matmulTransposed(attn, layer.oProj(), n, h, qs, delta);
      completePartialSums(delta, n * h);
      mark(KernelFamily.NORM);
      RmsNorm.addResidualAndNorm(delta, residual, layer.postAttentionNorm(), eps, n, h, normed);
      mark(KernelFamily.GATE_UP_PROJ);
      if (layer.moe() != null) { // router, dispatch, experts and combine all count as gate_up_proj
        moe.forward(l, layer.moe(), normed, n, rows, delta);
      } else {
        fp8Activations(normed, n, h);
        Matmul.matmulTransposed(normed, layer.gateProj(), n, inter, h, gate);
        Matmul.matmulTransposed(normed, layer.upProj(), n, inter, h, up);
        mark(KernelFamily.ACTIVATION);
        SwiGlu.forward(gate, up, n * inter, gate);
        mark(KernelFamily.DOWN_PROJ);
        fp8Activations(gate, n, inter);
        Matmul.matmulTransposed(gate, layer.downProj(), n, h, inter, delta);
      }
      completePartialSums(delta, n * h);
      mark(KernelFamily.NORM);
      float[] nextNorm = l + 1 < layers.length ? layers[l + 1].inputNorm() : weights.finalNorm;
      RmsNorm.addResidualAndNorm(delta, residual, nextNorm, eps, n, h, normed);
    }
    return normed;
  }

  /**
   * Under fp8-dynamic a projection's input rows are rounded to bf16 (the device's activations are bf16) and
   * quantized to FP8 per token in place, each row with its own scale (what the CUDA backend's
   * df_fp8_quantize_rows hands its FP8 x FP8 GEMM); else nothing. Every input so quantized is read by its
   * projections only.
   */
  private void fp8Activations(float[] x, int rows, int cols) {
    if (!load.fp8Activations()) return;
    for (int i = 0; i < rows * cols; i++) x[i] = Bf16.round(x[i]);
    Fp8E4m3.quantizeRows(x, rows, cols, cols);
  }

  /** A rank's o and down projections give partial sums over its heads or columns: add the group's. */
  private void completePartialSums(float[] delta, int count) {
    if (group == null || shard.whole()) return;
    mark(KernelFamily.ALL_REDUCE);
    group.allReduceSum(shard.rank(), delta, count);
  }

  /** (rows.length, vocab) logits of the chosen rows of the final hidden states. */
  private float[] logits(float[] hidden, int[] rows) {
    mark(KernelFamily.LM_HEAD);
    int h = config.hiddenSize();
    float[] picked = new float[rows.length * h];
    for (int i = 0; i < rows.length; i++) System.arraycopy(hidden, rows[i] * h, picked, i * h, h);
    float[] out = new float[rows.length * config.vocabSize()];
    Matmul.matmulTransposed(picked, weights.lmHead, rows.length, config.vocabSize(), h, out);
    return out;
  }

  /** CPU agents of one process hand KV to each other through the in-process exchange. */
  @Override
  public java.util.Optional<String> kvTransferUnsupported() {
    return kv == null ? java.util.Optional.of("the CPU backend's KV pool is not allocated")
        : kv.fp8() ? java.util.Optional.of("the CPU backend moves float32 KV pages only, and this pool is FP8")
        : java.util.Optional.empty();
  }

  @Override
  public byte[] newKvGroupId() {
    byte[] id = new byte[128];
    new java.security.SecureRandom().nextBytes(id);
    return id;
  }

  @Override
  public KvTransport joinKvGroup(KvGroupSpec spec) {
    kvTransferUnsupported().ifPresent(why -> {
      throw new IllegalStateException(why);
    });
    return CpuKvTransport.join(spec, kv.keys(), kv.values(), kv.blockSize() * config.kvSize());
  }

  @Override
  public java.util.Optional<String> tensorParallelUnsupported() {
    return java.util.Optional.empty();
  }

  @Override
  public byte[] newTensorGroupId() {
    return newKvGroupId();
  }

  @Override
  public void joinTensorGroup(TensorGroupSpec spec) {
    if (config != null) throw new IllegalStateException("joinTensorGroup must come before loadModel");
    group = CpuTensorGroup.join(spec.id(), spec.shard().rank(), spec.shard().size(), spec.timeout());
    if (spec.parallelism() == Parallelism.EXPERT) {
      expertShard = spec.expertShard();
    } else {
      shard = spec.shard();
    }
  }

  @Override
  public void abortTensorGroup() {
    CpuTensorGroup g = group;
    if (g != null) g.abort();
  }

  @Override
  public void close() {
    if (group != null) group.leave();
    group = null;
    kv = null;
    weights = null;
  }
}
