package io.decodefleet.agent.backend.cpu;

import io.decodefleet.agent.engine.DummyWeights.Kind;
import io.decodefleet.agent.engine.HostWeights;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.MoeConfig;
import io.decodefleet.agent.engine.tp.ExpertShard;
import io.decodefleet.agent.engine.tp.TensorShard;

/**
 * The CPU backend's float32 weights: one tensor-parallel shard of a {@link ModelLoad}, each tensor
 * read through {@link HostWeights} (the dummy hash, or the checkpoint's mapped file converted element
 * by element; an FP8 projection as its e4m3 values times their scales, so the float32 math that
 * follows computes what an FP8 weight with float accumulation gives).
 */
final class CpuWeights {

  /**
   * One decoder layer. The biases are null unless the model has attention biases (Qwen2), the q/k
   * norms unless it has them (Qwen3-MoE); a mixture of experts has {@code moe} and no dense MLP.
   */
  record Layer(
      float[] qProj, // (qHeads * headDim, hidden)
      float[] kProj, // (kvHeads * headDim, hidden)
      float[] vProj, // (kvHeads * headDim, hidden)
      float[] oProj, // (hidden, qHeads * headDim)
      float[] gateProj, // (intermediate, hidden)
      float[] upProj, // (intermediate, hidden)
      float[] downProj, // (hidden, intermediate)
      float[] inputNorm, // (hidden)
      float[] postAttentionNorm, // (hidden)
      float[] qBias, // (qHeads * headDim) or null
      float[] kBias, // (kvHeads * headDim) or null
      float[] vBias, // (kvHeads * headDim) or null
      float[] qNorm, // (headDim) or null
      float[] kNorm, // (headDim) or null
      Experts moe) {} // null for a dense MLP

  /**
   * A layer's router and experts: a rank's tensor-parallel slice of each expert's columns, or (expert
   * parallelism) whole experts of its range only, null for the others.
   */
  record Experts(
      float[] router, // (numExperts, hidden)
      float[][] gate, // numExperts x (inter, hidden) or null
      float[][] up, // numExperts x (inter, hidden) or null
      float[][] down) {} // numExperts x (hidden, inter) or null

  final float[] embedding; // (vocab, hidden)
  final float[] lmHead; // (vocab, hidden), == embedding when tied
  final float[] finalNorm; // (hidden)
  final Layer[] layers;

  private CpuWeights(float[] embedding, float[] lmHead, float[] finalNorm, Layer[] layers) {
    this.embedding = embedding;
    this.lmHead = lmHead;
    this.finalNorm = finalNorm;
    this.layers = layers;
  }

  /**
   * Rank {@code shard}'s weights of {@code load}'s full model; of its experts, those of {@code
   * experts} only (null: all).
   */
  static CpuWeights read(ModelLoad load, TensorShard shard, ExpertShard experts) {
    HostWeights w = new HostWeights(load);
    ModelConfig full = load.config();
    int h = full.hiddenSize();
    int inter = full.intermediateSize();
    int q = full.qSize();
    int kv = full.kvSize();
    TensorShard.Window embed = TensorShard.all((long) full.vocabSize() * h);
    float[] embedding = read(w, Kind.EMBEDDING, -1, embed);
    float[] lmHead = full.tieWordEmbeddings() ? embedding : read(w, Kind.LM_HEAD, -1, embed);
    float[] finalNorm = read(w, Kind.FINAL_NORM, -1, TensorShard.all(h));
    Layer[] layers = new Layer[full.numHiddenLayers()];
    boolean bias = full.attentionBias();
    boolean moe = full.isMoe();
    for (int l = 0; l < layers.length; l++) {
      layers[l] = new Layer(
          read(w, Kind.Q_PROJ, l, shard.rowSlice(q, h)),
          read(w, Kind.K_PROJ, l, shard.rowSlice(kv, h)),
          read(w, Kind.V_PROJ, l, shard.rowSlice(kv, h)),
          read(w, Kind.O_PROJ, l, shard.columnSlice(h, q)),
          moe ? null : read(w, Kind.GATE_PROJ, l, shard.rowSlice(inter, h)),
          moe ? null : read(w, Kind.UP_PROJ, l, shard.rowSlice(inter, h)),
          moe ? null : read(w, Kind.DOWN_PROJ, l, shard.columnSlice(h, inter)),
          read(w, Kind.INPUT_NORM, l, TensorShard.all(h)),
          read(w, Kind.POST_ATTENTION_NORM, l, TensorShard.all(h)),
          bias ? read(w, Kind.Q_BIAS, l, shard.rowSlice(q, 1)) : null,
          bias ? read(w, Kind.K_BIAS, l, shard.rowSlice(kv, 1)) : null,
          bias ? read(w, Kind.V_BIAS, l, shard.rowSlice(kv, 1)) : null,
          full.qkNorm() ? read(w, Kind.Q_NORM, l, TensorShard.all(full.headDim())) : null,
          full.qkNorm() ? read(w, Kind.K_NORM, l, TensorShard.all(full.headDim())) : null,
          moe ? experts(w, full.moe(), l, h, shard, experts) : null);
    }
    return new CpuWeights(embedding, lmHead, finalNorm, layers);
  }

  private static Experts experts(HostWeights w, MoeConfig moe, int layer, int h, TensorShard shard,
      ExpertShard held) {
    int n = moe.numExperts();
    int inter = moe.moeIntermediateSize();
    float[][] gate = new float[n][];
    float[][] up = new float[n][];
    float[][] down = new float[n][];
    int first = held == null ? 0 : held.firstExpert(n);
    int end = held == null ? n : held.endExpert(n);
    for (int e = first; e < end; e++) {
      gate[e] = read(w, Kind.EXPERT_GATE, layer, e, shard.rowSlice(inter, h));
      up[e] = read(w, Kind.EXPERT_UP, layer, e, shard.rowSlice(inter, h));
      down[e] = read(w, Kind.EXPERT_DOWN, layer, e, shard.columnSlice(h, inter));
    }
    return new Experts(read(w, Kind.ROUTER, layer, TensorShard.all((long) n * h)), gate, up, down);
  }

  private static float[] read(HostWeights w, Kind kind, int layer, int expert, TensorShard.Window window) {
    return w.read(kind, layer, expert, window.elements(), window::index);
  }

  private static float[] read(HostWeights w, Kind kind, int layer, TensorShard.Window window) {
    return w.read(kind, layer, window.elements(), window::index);
  }

  /** Adds {@code bias} (cols) to every one of the n rows of {@code x} (n, cols); nothing when null. */
  static void addBias(float[] x, int n, int cols, float[] bias) {
    if (bias == null) return;
    for (int r = 0; r < n; r++) {
      int base = r * cols;
      for (int c = 0; c < cols; c++) x[base + c] += bias[c];
    }
  }
}
