package io.decodefleet.agent.backend.cpu;

import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.DummyWeights.Kind;
import io.decodefleet.agent.engine.DummyWeights;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.kv.KvGroupSpec;
import io.decodefleet.agent.engine.kv.KvTransport;
import io.decodefleet.agent.engine.tp.TensorGroupSpec;
import io.decodefleet.agent.engine.tp.TensorParallelRank;
import io.decodefleet.agent.engine.tp.TensorShard;
import io.decodefleet.kernels.reference.CausalAttention;
import io.decodefleet.kernels.reference.Embedding;
import io.decodefleet.kernels.reference.Matmul;
import io.decodefleet.kernels.reference.PagedAttention;
import io.decodefleet.kernels.reference.PagedKvCache;
import io.decodefleet.kernels.reference.RmsNorm;
import io.decodefleet.kernels.reference.Rope;
import io.decodefleet.kernels.reference.SwiGlu;

/**
 * The reference backend: the Llama decoder in float32 on the CPU, built from the kernels module's
 * reference ops. Single-threaded (one engine thread per agent); the numerical oracle for every GPU
 * path. As one rank of a tensor-parallel group it holds its {@link TensorShard} of the weights and
 * completes the o and down projections with the group's in-process all-reduce.
 */
public final class CpuBackend implements TensorParallelRank {
  private final long kvMemoryBytes;
  private ModelConfig config;
  private float[] embedding; // (vocab, hidden)
  private float[] lmHead; // (vocab, hidden), == embedding when tied
  private float[] finalNorm; // (hidden)
  private Layer[] layers;
  private float[][] kCache; // per layer (numBlocks, blockSize, kvHeads, headDim)
  private float[][] vCache; // per layer (numBlocks, blockSize, kvHeads, headDim)
  private int blockSize;
  private TensorShard shard = TensorShard.WHOLE;
  private CpuTensorGroup group; // null outside a tensor-parallel group

  /**
   * KV memory of a CPU agent when the model spec leaves the pool size to the backend (kv_blocks = 0):
   * the one default for daemons, the embedded cluster and tests.
   */
  public static final long DEFAULT_KV_BYTES = 32L << 20;

  /** A CPU agent with the default KV memory. */
  public CpuBackend() {
    this(DEFAULT_KV_BYTES);
  }

  /** @param kvMemoryBytes bytes this backend may spend on the KV pool */
  public CpuBackend(long kvMemoryBytes) {
    this.kvMemoryBytes = kvMemoryBytes;
  }

  private record Layer(
      float[] qProj, // (qHeads * headDim, hidden)
      float[] kProj, // (kvHeads * headDim, hidden)
      float[] vProj, // (kvHeads * headDim, hidden)
      float[] oProj, // (hidden, qHeads * headDim)
      float[] gateProj, // (intermediate, hidden)
      float[] upProj, // (intermediate, hidden)
      float[] downProj, // (hidden, intermediate)
      float[] inputNorm, // (hidden)
      float[] postAttentionNorm) {} // (hidden)

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public String deviceDescription() {
    return "cpu (float32 reference, " + Runtime.getRuntime().availableProcessors() + " cores visible)";
  }

  @Override
  public void loadModel(ModelConfig full, long seed) {
    this.config = shard.of(full);
    int h = full.hiddenSize();
    int inter = full.intermediateSize();
    int q = full.qSize();
    int kv = full.kvSize();
    TensorShard.Window embed = TensorShard.all((long) full.vocabSize() * h);
    embedding = tensor(seed, Kind.EMBEDDING, -1, embed, 1.0f, 0f);
    lmHead = full.tieWordEmbeddings() ? embedding : tensor(seed, Kind.LM_HEAD, -1, embed, projectionScale(h), 0f);
    finalNorm = tensor(seed, Kind.FINAL_NORM, -1, TensorShard.all(h), 0.1f, 1f);
    layers = new Layer[full.numHiddenLayers()];
    for (int l = 0; l < layers.length; l++) {
      layers[l] = new Layer(
          tensor(seed, Kind.Q_PROJ, l, shard.rowSlice(q, h), projectionScale(h), 0f),
          tensor(seed, Kind.K_PROJ, l, shard.rowSlice(kv, h), projectionScale(h), 0f),
          tensor(seed, Kind.V_PROJ, l, shard.rowSlice(kv, h), projectionScale(h), 0f),
          tensor(seed, Kind.O_PROJ, l, shard.columnSlice(h, q), projectionScale(q), 0f),
          tensor(seed, Kind.GATE_PROJ, l, shard.rowSlice(inter, h), projectionScale(h), 0f),
          tensor(seed, Kind.UP_PROJ, l, shard.rowSlice(inter, h), projectionScale(h), 0f),
          tensor(seed, Kind.DOWN_PROJ, l, shard.columnSlice(h, inter), projectionScale(inter), 0f),
          tensor(seed, Kind.INPUT_NORM, l, TensorShard.all(h), 0.1f, 1f),
          tensor(seed, Kind.POST_ATTENTION_NORM, l, TensorShard.all(h), 0.1f, 1f));
    }
  }

  /** Uniform [-1, 1) has variance 1/3: scale by sqrt(3 / fanIn) for unit-variance outputs. */
  private static float projectionScale(int fanIn) {
    return (float) Math.sqrt(3.0 / fanIn);
  }

  /** This rank's {@code window} of the tensor (the whole tensor outside tensor parallelism). */
  private static float[] tensor(long seed, Kind kind, int layer, TensorShard.Window window, float scale,
      float offset) {
    long size = window.elements();
    if (size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor " + kind + " of layer " + layer + " has " + size
          + " elements: too large for the CPU backend (use a smaller model, e.g. tiny)");
    }
    float[] t = new float[(int) size];
    DummyWeights.fill(t, seed, DummyWeights.tensorId(kind, layer), window::index, scale, offset);
    return t;
  }

  @Override
  public int kvBlockCapacity(int blockSize) {
    long perBlock = config.kvBytesPerToken(Float.BYTES) * blockSize;
    return (int) Math.min(Integer.MAX_VALUE, kvMemoryBytes / perBlock);
  }

  @Override
  public void allocateKvCache(int numBlocks, int blockSize) {
    long perLayer = (long) numBlocks * blockSize * config.kvSize();
    if (perLayer > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("KV pool of " + numBlocks + " blocks is too large for the CPU backend");
    }
    this.blockSize = blockSize;
    kCache = new float[config.numHiddenLayers()][(int) perLayer];
    vCache = new float[config.numHiddenLayers()][(int) perLayer];
  }

  @Override
  public float[] forward(ForwardBatch batch) {
    int n = batch.numTokens();
    float[] hidden = run(batch.tokens(), batch.positions(), (layer, q, k, v, out) -> {
      PagedKvCache.append(k, v, n, batch.slotMapping(), kCache[layer], vCache[layer], config.numKeyValueHeads(),
          config.headDim());
      PagedAttention.forward(q, n, config.numAttentionHeads(), config.numKeyValueHeads(), config.headDim(),
          kCache[layer], vCache[layer], blockSize, batch.blockTables(), batch.contextLens(), attentionScale(), out);
    });
    return logits(hidden, batch.sampleRows());
  }

  @Override
  public float[] forwardWithoutCache(int[] tokens) {
    int n = tokens.length;
    int[] positions = new int[n];
    int[] rows = new int[n];
    for (int i = 0; i < n; i++) {
      positions[i] = i;
      rows[i] = i;
    }
    float[] hidden = run(tokens, positions, (layer, q, k, v, out) -> CausalAttention.forward(q, k, v, n,
        config.numAttentionHeads(), config.numKeyValueHeads(), config.headDim(), attentionScale(), out));
    return logits(hidden, rows);
  }

  private float attentionScale() {
    return (float) (1.0 / Math.sqrt(config.headDim()));
  }

  /** How a layer's attention gets its context: through the paged cache, or densely. */
  private interface Attention {
    /** q (n, qHeads, headDim), k and v (n, kvHeads, headDim) after RoPE; out (n, qHeads, headDim). */
    void attend(int layer, float[] q, float[] k, float[] v, float[] out);
  }

  /** The decoder stack; returns the final-normed hidden states (n, hidden). */
  private float[] run(int[] tokens, int[] positions, Attention attention) {
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
    float[] gate = new float[n * inter]; // (n, intermediate)
    float[] up = new float[n * inter]; // (n, intermediate)

    Embedding.gather(embedding, config.vocabSize(), h, tokens, n, residual);
    RmsNorm.forward(residual, layers[0].inputNorm(), eps, n, h, normed);
    for (int l = 0; l < layers.length; l++) {
      Layer layer = layers[l];
      Matmul.matmulTransposed(normed, layer.qProj(), n, qs, h, q);
      Matmul.matmulTransposed(normed, layer.kProj(), n, kvs, h, k);
      Matmul.matmulTransposed(normed, layer.vProj(), n, kvs, h, v);
      Rope.apply(q, n, config.numAttentionHeads(), config.headDim(), positions, config.ropeTheta());
      Rope.apply(k, n, config.numKeyValueHeads(), config.headDim(), positions, config.ropeTheta());
      attention.attend(l, q, k, v, attn);
      Matmul.matmulTransposed(attn, layer.oProj(), n, h, qs, delta);
      completePartialSums(delta, n * h);
      RmsNorm.addResidualAndNorm(delta, residual, layer.postAttentionNorm(), eps, n, h, normed);
      Matmul.matmulTransposed(normed, layer.gateProj(), n, inter, h, gate);
      Matmul.matmulTransposed(normed, layer.upProj(), n, inter, h, up);
      SwiGlu.forward(gate, up, n * inter, gate);
      Matmul.matmulTransposed(gate, layer.downProj(), n, h, inter, delta);
      completePartialSums(delta, n * h);
      float[] nextNorm = l + 1 < layers.length ? layers[l + 1].inputNorm() : finalNorm;
      RmsNorm.addResidualAndNorm(delta, residual, nextNorm, eps, n, h, normed);
    }
    return normed;
  }

  /** A rank's o and down projections give partial sums over its heads or columns: add the group's. */
  private void completePartialSums(float[] delta, int count) {
    if (group != null) group.allReduceSum(shard.rank(), delta, count);
  }

  /** (rows.length, vocab) logits of the chosen rows of the final hidden states. */
  private float[] logits(float[] hidden, int[] rows) {
    int h = config.hiddenSize();
    float[] picked = new float[rows.length * h];
    for (int i = 0; i < rows.length; i++) System.arraycopy(hidden, rows[i] * h, picked, i * h, h);
    float[] out = new float[rows.length * config.vocabSize()];
    Matmul.matmulTransposed(picked, lmHead, rows.length, config.vocabSize(), h, out);
    return out;
  }

  /** CPU agents of one process hand KV to each other through the in-process exchange. */
  @Override
  public java.util.Optional<String> kvTransferUnsupported() {
    return kCache == null ? java.util.Optional.of("the CPU backend's KV pool is not allocated")
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
    if (kCache == null) throw new IllegalStateException("allocateKvCache has not been called");
    return CpuKvTransport.join(spec, kCache, vCache, blockSize * config.kvSize());
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
    shard = spec.shard();
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
    kCache = null;
    vCache = null;
    layers = null;
  }
}
