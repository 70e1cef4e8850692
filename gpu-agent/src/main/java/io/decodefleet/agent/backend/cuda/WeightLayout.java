package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.engine.DummyWeights;
import io.decodefleet.agent.engine.DummyWeights.Kind;
import io.decodefleet.agent.engine.ModelConfig;
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
 */
public final class WeightLayout {

  /** bf16. */
  public static final int ELEMENT_BYTES = 2;
  private static final long ALIGN = 256;

  /**
   * One generated tensor (or a rank's part of one).
   *
   * @param byteOffset where its element 0 lives in the weight allocation
   * @param window where its elements lie in the full tensor
   */
  public record Tensor(Kind kind, int layer, long tensorId, long elements, float scale, float offset,
      long byteOffset, TensorShard.Window window) {}

  /** Byte offsets of one decoder layer's weights. */
  public record LayerWeights(
      long qkv, // (qSize + 2 kvSize, hidden) bf16: q_proj rows, then k_proj, then v_proj
      long o, // (hidden, qSize) bf16
      long gateUp, // (2 intermediate, hidden) bf16: gate_proj rows, then up_proj
      long down, // (hidden, intermediate) bf16
      long inputNorm, // (hidden) bf16
      long postAttentionNorm) {} // (hidden) bf16

  private final ModelConfig config;
  private final List<Tensor> tensors = new ArrayList<>();
  private final LayerWeights[] layers;
  private final long embedding; // (vocab, hidden) bf16
  private final long finalNorm; // (hidden) bf16
  private final long lmHead; // (vocab, hidden) bf16, == embedding when tied
  private long size;

  public WeightLayout(ModelConfig config) {
    this(config, TensorShard.WHOLE);
  }

  /** Rank {@code shard}'s weights of the full model {@code full}. */
  public WeightLayout(ModelConfig full, TensorShard shard) {
    this.config = shard.of(full);
    int h = full.hiddenSize();
    int inter = full.intermediateSize();
    int q = full.qSize();
    int kv = full.kvSize();
    long vocab = full.vocabSize();
    embedding = place(full, Kind.EMBEDDING, -1, TensorShard.all(vocab * h));
    layers = new LayerWeights[full.numHiddenLayers()];
    for (int l = 0; l < layers.length; l++) {
      long qkv = place(full, Kind.Q_PROJ, l, shard.rowSlice(q, h));
      placeContiguous(full, Kind.K_PROJ, l, shard.rowSlice(kv, h));
      placeContiguous(full, Kind.V_PROJ, l, shard.rowSlice(kv, h));
      long o = place(full, Kind.O_PROJ, l, shard.columnSlice(h, q));
      long gateUp = place(full, Kind.GATE_PROJ, l, shard.rowSlice(inter, h));
      placeContiguous(full, Kind.UP_PROJ, l, shard.rowSlice(inter, h));
      long down = place(full, Kind.DOWN_PROJ, l, shard.columnSlice(h, inter));
      long inNorm = place(full, Kind.INPUT_NORM, l, TensorShard.all(h));
      long postNorm = place(full, Kind.POST_ATTENTION_NORM, l, TensorShard.all(h));
      layers[l] = new LayerWeights(qkv, o, gateUp, down, inNorm, postNorm);
    }
    finalNorm = place(full, Kind.FINAL_NORM, -1, TensorShard.all(h));
    lmHead = full.tieWordEmbeddings() ? embedding : place(full, Kind.LM_HEAD, -1, TensorShard.all(vocab * h));
  }

  private long place(ModelConfig full, Kind kind, int layer, TensorShard.Window window) {
    size = (size + ALIGN - 1) / ALIGN * ALIGN;
    return placeContiguous(full, kind, layer, window);
  }

  /** Right after the previous tensor, no alignment gap: the rows of a fused matrix. */
  private long placeContiguous(ModelConfig full, Kind kind, int layer, TensorShard.Window window) {
    long at = size;
    tensors.add(new Tensor(kind, layer, DummyWeights.tensorId(kind, layer), window.elements(),
        DummyWeights.scale(kind, full), DummyWeights.offset(kind), at, window));
    size += window.elements() * ELEMENT_BYTES;
    return at;
  }

  public ModelConfig config() {
    return config;
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

  /** Bytes of the whole allocation. */
  public long totalBytes() {
    return size;
  }

  /**
   * Bytes one decode step streams from the weights: everything but the embedding table (of which
   * a step reads only its tokens' rows) unless the head shares it.
   */
  public long bytesReadPerStep() {
    long embeddingBytes = (long) config.vocabSize() * config.hiddenSize() * ELEMENT_BYTES;
    return config.tieWordEmbeddings() ? size : size - embeddingBytes;
  }
}
