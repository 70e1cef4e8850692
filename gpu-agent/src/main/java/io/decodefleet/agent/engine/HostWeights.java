package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.DummyWeights.Kind;
import io.decodefleet.agent.engine.ModelSpec.Quantization;
import io.decodefleet.agent.engine.checkpoint.CheckedCheckpoint;
import io.decodefleet.agent.engine.checkpoint.MappedTensor;
import io.decodefleet.agent.engine.checkpoint.TensorEntry;
import io.decodefleet.kernels.reference.Fp8E4m3;
import java.util.function.LongUnaryOperator;

/**
 * A model's weights on the host as float32, tensor by tensor: the one reading of a {@link ModelLoad}
 * that the CPU backend holds and that tools compare against. Dummy weights come from the hash; a
 * checkpoint's from its mapped file, each element converted on its own (bf16, fp16 and fp32
 * exactly, an FP8 element as its e4m3 value times its scale), so no tensor is ever copied whole.
 *
 * <p>With FP8 quantization a projection that is not FP8 already is quantized as vLLM's
 * {@code --quantization fp8} does: one scale for the whole tensor, its largest magnitude over 448,
 * each element rounded to e4m3 times that scale. The scale belongs to the full tensor, so a
 * tensor-parallel rank reads the full tensor to quantize its slice as a single device would.
 */
public final class HostWeights {

  private final ModelLoad load;

  public HostWeights(ModelLoad load) {
    this.load = load;
  }

  /** The model these weights are of. */
  public ModelConfig config() {
    return load.config();
  }

  /**
   * {@code count} elements of tensor {@code kind} of {@code layer} (-1 for a tensor not per layer):
   * element i is the full tensor's element {@code fullIndex(i)}.
   */
  public float[] read(Kind kind, int layer, long count, LongUnaryOperator fullIndex) {
    return read(kind, layer, -1, count, fullIndex);
  }

  /** As {@link #read(Kind, int, long, LongUnaryOperator)}, of expert {@code expert} (-1: not per expert). */
  public float[] read(Kind kind, int layer, int expert, long count, LongUnaryOperator fullIndex) {
    if (count > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor " + kind + " of layer " + layer + " has " + count
          + " elements: too large for a float32 array (use a smaller model, e.g. tiny)");
    }
    if (quantizedHere(kind)) {
      float[] full = stored(kind, layer, expert, elements(kind, load.config()), i -> i);
      Fp8E4m3.quantizeInPlace(full, Fp8E4m3.scaleFor(full));
      float[] out = new float[(int) count];
      for (int i = 0; i < out.length; i++) out[i] = full[(int) fullIndex.applyAsLong(i)];
      return out;
    }
    return stored(kind, layer, expert, count, fullIndex);
  }

  /** The elements as the source holds them: hashed, or converted from the checkpoint's dtype. */
  private float[] stored(Kind kind, int layer, int expert, long count, LongUnaryOperator fullIndex) {
    float[] out = new float[(int) count];
    if (load.weights() instanceof WeightSource.Dummy d) {
      DummyWeights.fill(out, d.seed(), DummyWeights.tensorId(kind, layer, expert), fullIndex,
          DummyWeights.scale(kind, load.config()), DummyWeights.offset(kind));
      return out;
    }
    CheckedCheckpoint checkpoint = ((WeightSource.Checkpoint) load.weights()).checkpoint();
    MappedTensor t = MappedTensor.map(checkpointTensor(checkpoint, kind, Math.max(0, layer), Math.max(0, expert)));
    for (int i = 0; i < out.length; i++) out[i] = t.get(fullIndex.applyAsLong(i));
    return out;
  }

  private static CheckedCheckpoint.Tensor checkpointTensor(CheckedCheckpoint c, Kind kind, int layer, int expert) {
    return kind.expertTensor() != null ? c.expertTensor(kind.expertTensor(), layer, expert)
        : c.tensor(kind.tensor(), layer);
  }

  /** The whole tensor. */
  public float[] read(Kind kind, int layer) {
    return read(kind, layer, elements(kind, load.config()), i -> i);
  }

  /**
   * The FP8 KV cache scale of {@code layer}'s keys (or values): the checkpoint's k_scale / v_scale
   * where it has them, else 1 (vLLM's default).
   */
  public float kvScale(int layer, boolean key) {
    if (!(load.weights() instanceof WeightSource.Checkpoint c)) return 1f;
    TensorEntry scale = c.checkpoint().kvScale(layer, key);
    if (scale == null) return 1f;
    float s = MappedTensor.map(scale).get(0);
    if (!(s > 0) || !Float.isFinite(s)) {
      throw new IllegalArgumentException(scale.file() + ": tensor "
          + io.decodefleet.agent.engine.checkpoint.CheckpointException.quoted(scale.name()) + " is " + s
          + ": a KV cache scale must be finite and > 0");
    }
    return s;
  }

  /** Whether {@code kind} is a projection this load quantizes (one that a checkpoint stores in FP8 is not). */
  private boolean quantizedHere(Kind kind) {
    if (!load.quantization().fp8Weights() || !quantizable(kind)) return false;
    return !(load.weights() instanceof WeightSource.Checkpoint c && checkpointTensor(c.checkpoint(), kind, 0, 0).fp8());
  }

  /**
   * The projections of a decoder layer, experts' included: what FP8 quantization applies to (not the
   * embedding, the head nor a router, which vLLM keeps unquantized too).
   */
  public static boolean quantizable(Kind kind) {
    return switch (kind) {
      case Q_PROJ, K_PROJ, V_PROJ, O_PROJ, GATE_PROJ, UP_PROJ, DOWN_PROJ, EXPERT_GATE, EXPERT_UP, EXPERT_DOWN -> true;
      default -> false;
    };
  }

  /** Elements of the full tensor {@code kind} of model {@code c}. */
  public static long elements(Kind kind, ModelConfig c) {
    long n = 1;
    for (long d : shape(kind, c)) n *= d;
    return n;
  }

  /** The full tensor's shape, as a checkpoint stores it: (out_features, in_features) for a projection. */
  public static long[] shape(Kind kind, ModelConfig c) {
    long h = c.hiddenSize();
    return switch (kind) {
      case EMBEDDING, LM_HEAD -> new long[] {c.vocabSize(), h};
      case Q_PROJ -> new long[] {c.qSize(), h};
      case K_PROJ, V_PROJ -> new long[] {c.kvSize(), h};
      case O_PROJ -> new long[] {h, c.qSize()};
      case GATE_PROJ, UP_PROJ -> new long[] {c.intermediateSize(), h};
      case DOWN_PROJ -> new long[] {h, c.intermediateSize()};
      case INPUT_NORM, POST_ATTENTION_NORM, FINAL_NORM -> new long[] {h};
      case Q_BIAS -> new long[] {c.qSize()};
      case K_BIAS, V_BIAS -> new long[] {c.kvSize()};
      case Q_NORM, K_NORM -> new long[] {c.headDim()};
      case ROUTER -> new long[] {c.moe().numExperts(), h};
      case EXPERT_GATE, EXPERT_UP -> new long[] {c.moe().moeIntermediateSize(), h};
      case EXPERT_DOWN -> new long[] {h, c.moe().moeIntermediateSize()};
    };
  }
}
