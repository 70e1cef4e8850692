package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.engine.DummyWeights;
import io.decodefleet.agent.engine.DummyWeights.Kind;
import io.decodefleet.agent.engine.HostWeights;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.checkpoint.CheckedCheckpoint;
import io.decodefleet.agent.engine.tp.ExpertShard;
import io.decodefleet.agent.engine.tp.TensorShard;
import java.util.ArrayList;
import java.util.List;

/**
 * Where each weight tensor lives in the CUDA backend's one weight allocation, and, for dummy
 * weights, how it is generated: tensor id, element count, scale and offset by the rule the CPU
 * backend reads them by ({@link DummyWeights#scale}), so the GPU holds the CPU backend's weights
 * rounded to bf16. A checkpoint's tensors go to the same places ({@link CheckpointUpload}).
 *
 * <p>Per layer, projections that read the same input are fused into one (out_features,
 * in_features) matrix so that one GEMM computes them: q, k and v rows back to back as qkv
 * (qSize + 2 kvSize, hidden), gate and up as gate_up (2 intermediate, hidden). Each part keeps its
 * own tensor id and indices 0.. of its own rows, so fusing changes no value. Every tensor starts on
 * a 256-byte boundary (16-byte vector loads need 16).
 *
 * <p>As a tensor-parallel rank the layout holds the rank's {@link TensorShard} of each projection
 * (rows of q/k/v and gate/up, columns of o and down), each element generated from its index in the
 * full tensor, so the ranks together hold exactly the single-device weights.
 *
 * <p>As an expert-parallel rank ({@link ExpertShard}) it holds every layer's experts {@code
 * [firstExpert, endExpert)} only, the rank's first expert where a whole model's expert 0 is, each
 * generated from (or uploaded as) its own expert id; everything else is whole.
 *
 * <p>With FP8 weights ({@code --quantization fp8} or an FP8 checkpoint) the seven projections are
 * e4m3fn codes, one byte an element, and each fused matrix is followed by its row scales: (rows)
 * float32, every row of a part carrying that part's scale (per tensor) or its own (per output
 * channel), which is what the FP8 GEMM reads. The embedding, the norms (q/k norms included), the
 * attention biases and the LM head stay bf16.
 */
public final class WeightLayout {

  /** bf16. */
  public static final int ELEMENT_BYTES = 2;
  /** An FP8 e4m3 projection element. */
  public static final int FP8_ELEMENT_BYTES = 1;
  private static final long ALIGN = 256;

  /**
   * One generated tensor (or a rank's part of one).
   *
   * @param byteOffset where its element 0 lives in the weight allocation
   * @param window where its elements lie in the full tensor
   * @param elementBytes 2 (bf16) or 1 (FP8 e4m3 codes)
   * @param rows its rows here (out_features of this part, or of the rank's slice)
   * @param scaleOffset FP8: where the float32 scale of its row 0 lives (rows follow); -1 for bf16
   * @param fullElements elements of the full tensor (a rank holds a window of them)
   * @param expert a mixture of experts' expert of a per-expert tensor; -1 for every other tensor
   */
  public record Tensor(Kind kind, int layer, long tensorId, long elements, float scale, float offset,
      long byteOffset, TensorShard.Window window, int elementBytes, int rows, long scaleOffset, long fullElements,
      int expert) {
    public boolean fp8() {
      return elementBytes == FP8_ELEMENT_BYTES;
    }

    /** Elements of one row (in_features here). */
    public long cols() {
      return elements / rows;
    }

    public long bytes() {
      return elements * elementBytes;
    }

    /** Its tensor in {@code checkpoint}: a dense one, or a router's or an expert's. */
    public CheckedCheckpoint.Tensor in(CheckedCheckpoint checkpoint) {
      int l = Math.max(0, layer);
      return kind.expertTensor() != null ? checkpoint.expertTensor(kind.expertTensor(), l, Math.max(0, expert))
          : checkpoint.tensor(kind.tensor(), l);
    }
  }

  /** Byte offsets of one decoder layer's weights. */
  public record LayerWeights(
      long qkv, // (qSize + 2 kvSize, hidden) bf16: q_proj rows, then k_proj, then v_proj
      long o, // (hidden, qSize) bf16
      long gateUp, // (2 intermediate, hidden) bf16: gate_proj rows, then up_proj
      long down, // (hidden, intermediate) bf16
      long inputNorm, // (hidden) bf16
      long postAttentionNorm, // (hidden) bf16
      long qkvScales, // FP8: (qSize + 2 kvSize) float32 row scales; -1 when bf16
      long oScales, // FP8: (hidden) float32
      long gateUpScales, // FP8: (2 intermediate) float32
      long downScales, // FP8: (hidden) float32
      long router, // MoE: (experts, hidden) bf16; -1 for a dense MLP (and gateUp, down are -1 for MoE)
      long expertGateUp, // MoE: (experts, 2 moeIntermediate, hidden) bf16: each expert's gate rows, then its up rows
      long expertDown, // MoE: (experts, hidden, moeIntermediate) bf16
      long qNorm, // q/k norms: (headDim) bf16, shared by the layer's q heads; -1 without them
      long kNorm, // q/k norms: (headDim) bf16, shared by its k heads; -1 without them
      long qBias, // attention biases (Qwen2): (qSize) bf16; -1 without them
      long kBias, // attention biases: (kvSize) bf16; -1 without them
      long vBias) { // attention biases: (kvSize) bf16; -1 without them
    public boolean moe() {
      return router >= 0;
    }

    /** Whether each q and k head is RMS-normed before RoPE (Qwen3). */
    public boolean qkNorm() {
      return qNorm >= 0;
    }

    /** Whether q, k and v get their projections' biases (Qwen2). */
    public boolean biases() {
      return qBias >= 0;
    }
  }

  private final ModelConfig config;
  private final boolean fp8;
  private final List<Tensor> tensors = new ArrayList<>();
  private final LayerWeights[] layers;
  private final int firstExpert; // an expert-parallel rank's experts [firstExpert, endExpert); 0..E on one device
  private final int endExpert;
  private final long embedding; // (vocab, hidden) bf16
  private final long finalNorm; // (hidden) bf16
  private final long lmHead; // (vocab, hidden) bf16, == embedding when tied
  private long size;

  public WeightLayout(ModelConfig config) {
    this(config, TensorShard.WHOLE, false);
  }

  /** Rank {@code shard}'s bf16 weights of the full model {@code full}. */
  public WeightLayout(ModelConfig full, TensorShard shard) {
    this(full, shard, false);
  }

  /** Rank {@code shard}'s weights of the full model {@code full}; with {@code fp8} the projections are e4m3. */
  public WeightLayout(ModelConfig full, TensorShard shard, boolean fp8) {
    this(full, shard, fp8, null);
  }

  /**
   * As {@link #WeightLayout(ModelConfig, TensorShard, boolean)}; with {@code experts} (an
   * expert-parallel rank's, {@code shard} then whole) only that rank's experts of every layer.
   */
  public WeightLayout(ModelConfig full, TensorShard shard, boolean fp8, ExpertShard experts) {
    this.config = shard.of(full);
    this.fp8 = fp8;
    if (full.isMoe() && (fp8 || shard.size() > 1)) {
      throw new IllegalArgumentException("the CUDA backend's mixture of experts holds bf16 experts, whole or split"
          + " by expert (no FP8 experts, no tensor parallelism of a mixture yet)");
    }
    if (experts != null && shard.size() > 1) {
      throw new IllegalArgumentException("a rank splits either the experts or the heads, not both");
    }
    if (experts != null) {
      ExpertShard.unsplittable(full, experts.size()).ifPresent(why -> {
        throw new IllegalArgumentException(why);
      });
    }
    this.firstExpert = experts == null || !full.isMoe() ? 0 : experts.firstExpert(full.moe().numExperts());
    this.endExpert = !full.isMoe() ? 0
        : experts == null ? full.moe().numExperts() : experts.endExpert(full.moe().numExperts());
    int h = full.hiddenSize();
    int inter = full.intermediateSize();
    int q = full.qSize();
    int kv = full.kvSize();
    long vocab = full.vocabSize();
    embedding = place(full, Kind.EMBEDDING, -1, TensorShard.all(vocab * h));
    layers = new LayerWeights[full.numHiddenLayers()];
    for (int l = 0; l < layers.length; l++) {
      int first = tensors.size();
      long qkv = place(full, Kind.Q_PROJ, l, shard.rowSlice(q, h));
      placeContiguous(full, Kind.K_PROJ, l, shard.rowSlice(kv, h));
      placeContiguous(full, Kind.V_PROJ, l, shard.rowSlice(kv, h));
      long qkvScales = placeScales(first);
      first = tensors.size();
      long o = place(full, Kind.O_PROJ, l, shard.columnSlice(h, q));
      long oScales = placeScales(first);
      long gateUp = -1;
      long gateUpScales = -1;
      long down = -1;
      long downScales = -1;
      long router = -1;
      long expertGateUp = -1;
      long expertDown = -1;
      if (full.isMoe()) {
        router = place(full, Kind.ROUTER, l, -1, TensorShard.all((long) full.moe().numExperts() * h));
        expertGateUp = placeExperts(full, l, Kind.EXPERT_GATE, Kind.EXPERT_UP);
        expertDown = placeExperts(full, l, Kind.EXPERT_DOWN, null);
      } else {
        first = tensors.size();
        gateUp = place(full, Kind.GATE_PROJ, l, shard.rowSlice(inter, h));
        placeContiguous(full, Kind.UP_PROJ, l, shard.rowSlice(inter, h));
        gateUpScales = placeScales(first);
        first = tensors.size();
        down = place(full, Kind.DOWN_PROJ, l, shard.columnSlice(h, inter));
        downScales = placeScales(first);
      }
      long inNorm = place(full, Kind.INPUT_NORM, l, TensorShard.all(h));
      long postNorm = place(full, Kind.POST_ATTENTION_NORM, l, TensorShard.all(h));
      // A q/k norm's weight is per head_dim, shared by every head: each rank holds it whole.
      long qNorm = full.qkNorm() ? place(full, Kind.Q_NORM, l, TensorShard.all(full.headDim())) : -1;
      long kNorm = full.qkNorm() ? place(full, Kind.K_NORM, l, TensorShard.all(full.headDim())) : -1;
      // Biases follow their projection's rows: a rank holds those of its heads.
      boolean bias = full.attentionBias();
      long qBias = bias ? place(full, Kind.Q_BIAS, l, shard.rowSlice(q, 1)) : -1;
      long kBias = bias ? place(full, Kind.K_BIAS, l, shard.rowSlice(kv, 1)) : -1;
      long vBias = bias ? place(full, Kind.V_BIAS, l, shard.rowSlice(kv, 1)) : -1;
      layers[l] = new LayerWeights(qkv, o, gateUp, down, inNorm, postNorm, qkvScales, oScales, gateUpScales,
          downScales, router, expertGateUp, expertDown, qNorm, kNorm, qBias, kBias, vBias);
    }
    finalNorm = place(full, Kind.FINAL_NORM, -1, TensorShard.all(h));
    lmHead = full.tieWordEmbeddings() ? embedding : place(full, Kind.LM_HEAD, -1, TensorShard.all(vocab * h));
  }

  private long place(ModelConfig full, Kind kind, int layer, TensorShard.Window window) {
    return place(full, kind, layer, -1, window);
  }

  private long place(ModelConfig full, Kind kind, int layer, int expert, TensorShard.Window window) {
    size = (size + ALIGN - 1) / ALIGN * ALIGN;
    return placeContiguous(full, kind, layer, expert, window);
  }

  /**
   * Every expert's {@code kind} tensor (and its {@code second}, when given, right after each: gate
   * then up), expert after expert with no gap, so expert e starts at a fixed stride from this
   * layout's first expert: what the grouped expert GEMMs index. Returns where the first starts.
   */
  private long placeExperts(ModelConfig full, int layer, Kind kind, Kind second) {
    long elements = HostWeights.elements(kind, full);
    long at = -1;
    for (int e = firstExpert; e < endExpert; e++) {
      long here = e == firstExpert ? place(full, kind, layer, e, TensorShard.all(elements))
          : placeContiguous(full, kind, layer, e, TensorShard.all(elements));
      at = e == firstExpert ? here : at;
      if (second != null) placeContiguous(full, second, layer, e, TensorShard.all(elements));
    }
    return at;
  }

  /** Right after the previous tensor, no alignment gap: the rows of a fused matrix. */
  private long placeContiguous(ModelConfig full, Kind kind, int layer, TensorShard.Window window) {
    return placeContiguous(full, kind, layer, -1, window);
  }

  private long placeContiguous(ModelConfig full, Kind kind, int layer, int expert, TensorShard.Window window) {
    long at = size;
    int bytes = fp8 && HostWeights.quantizable(kind) ? FP8_ELEMENT_BYTES : ELEMENT_BYTES;
    long cols = HostWeights.shape(kind, full).length == 2
        ? (window.cols() > 0 ? window.cols() : HostWeights.shape(kind, full)[1]) : window.elements();
    tensors.add(new Tensor(kind, layer, DummyWeights.tensorId(kind, layer, expert), window.elements(),
        DummyWeights.scale(kind, full), DummyWeights.offset(kind), at, window, bytes,
        Math.toIntExact(window.elements() / cols), -1, HostWeights.elements(kind, full), expert));
    size += window.elements() * bytes;
    return at;
  }

  /**
   * FP8: the row scales of the fused matrix made of tensors {@code first..} (aligned, right after
   * it), each tensor told where its rows' scales start; -1 (nothing placed) for bf16.
   */
  private long placeScales(int first) {
    if (!fp8) return -1;
    size = (size + ALIGN - 1) / ALIGN * ALIGN;
    long at = size;
    for (int i = first; i < tensors.size(); i++) {
      Tensor t = tensors.get(i);
      tensors.set(i, new Tensor(t.kind(), t.layer(), t.tensorId(), t.elements(), t.scale(), t.offset(),
          t.byteOffset(), t.window(), t.elementBytes(), t.rows(), size, t.fullElements(), t.expert()));
      size += (long) Float.BYTES * t.rows();
    }
    return at;
  }

  /** Whether the projections are FP8 e4m3 codes with row scales. */
  public boolean fp8() {
    return fp8;
  }

  public ModelConfig config() {
    return config;
  }

  /** The first expert held here (0 unless an expert-parallel rank's). */
  public int firstExpert() {
    return firstExpert;
  }

  /** One past the last expert held here (every expert unless an expert-parallel rank's; 0 for a dense model). */
  public int endExpert() {
    return endExpert;
  }

  /** Every generated tensor, in allocation order. */
  public List<Tensor> tensors() {
    return List.copyOf(tensors);
  }

  public LayerWeights layer(int l) {
    return layers[l];
  }

  public long embedding() {
    return embedding;
  }

  public long finalNorm() {
    return finalNorm;
  }

  public long lmHead() {
    return lmHead;
  }

  /** Elements of the largest fused projection (qkv, o, gate_up or down) here. */
  public long largestProjectionElements() {
    int h = config.hiddenSize();
    return Math.max(Math.max((long) (config.qSize() + 2 * config.kvSize()) * h, (long) h * config.qSize()),
        Math.max(2L * config.intermediateSize() * h, (long) h * config.intermediateSize()));
  }

  /** Bytes of the projections' FP8 codes and row scales (0 for bf16 weights). */
  public long fp8Bytes() {
    long bytes = 0;
    for (Tensor t : tensors) {
      if (t.fp8()) bytes += t.bytes() + (long) Float.BYTES * t.rows();
    }
    return bytes;
  }

  /** Bytes of the whole allocation. */
  public long totalBytes() {
    return size;
  }

  /**
   * Bytes one decode step streams from the weights: everything but the embedding table (of which
   * a step reads only its tokens' rows) unless the head shares it.
   */
  public long bytesReadPerStep() {
    long all = streamedBytes();
    if (!config.isMoe()) return all;
    int held = endExpert - firstExpert;
    int ranks = config.moe().numExperts() / held;
    // A token's k experts, spread as evenly as they can be over the ranks: the busiest reads ceil(k / K).
    int least = (config.moe().expertsPerToken() + ranks - 1) / ranks;
    return all - expertBytes() + expertBytes() / held * Math.min(held, least);
  }

  /**
   * Bytes a decode step streams from the weights when its tokens reached the experts {@code routed}
   * counts: the dense part and each (layer, expert) held here that took a token; null (or a dense
   * model) gives {@link #bytesReadPerStep()}.
   */
  public long bytesReadPerStep(io.decodefleet.agent.engine.ExpertLoad routed) {
    if (!config.isMoe() || routed == null) return bytesReadPerStep();
    int held = endExpert - firstExpert;
    long each = expertBytes() / ((long) config.numHiddenLayers() * held);
    long touched = 0;
    for (int l = 0; l < config.numHiddenLayers(); l++) {
      for (int e = firstExpert; e < endExpert; e++) {
        if (routed.tokens(l, e) > 0) touched++;
      }
    }
    return streamedBytes() - expertBytes() + each * touched;
  }

  /** Every weight byte but the embedding table's (of which a step reads only its tokens' rows), unless the head shares it. */
  private long streamedBytes() {
    long embeddingBytes = (long) config.vocabSize() * config.hiddenSize() * ELEMENT_BYTES;
    return config.tieWordEmbeddings() ? size : size - embeddingBytes;
  }

  /**
   * Bytes of every layer's experts held here (0 for a dense model). A decode step reads only the experts its
   * tokens were routed to: {@link #bytesReadPerStep} counts one token's k of them, the least a step
   * reads (on an expert-parallel rank of K, ceil(k / K) of them: the least the busiest rank reads).
   */
  public long expertBytes() {
    long bytes = 0;
    for (Tensor t : tensors) {
      if (t.kind().perExpert()) bytes += t.bytes();
    }
    return bytes;
  }
}
