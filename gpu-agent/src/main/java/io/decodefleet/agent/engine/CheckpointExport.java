package io.decodefleet.agent.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.agent.engine.DummyWeights.Kind;
import io.decodefleet.agent.engine.checkpoint.CheckpointFiles;
import io.decodefleet.agent.engine.checkpoint.HfConfig;
import io.decodefleet.agent.engine.checkpoint.TensorDtype;
import io.decodefleet.agent.engine.checkpoint.SafetensorsWriter;
import io.decodefleet.kernels.cuda.Bf16;
import io.decodefleet.kernels.reference.Fp8E4m3;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a model's host weights ({@link HostWeights}: a preset's dummy weights, typically) as a
 * Hugging Face model directory that {@code --model DIR} loads back: config.json and
 * model.safetensors, or N shards with model.safetensors.index.json. Tensors are produced in chunks,
 * never whole.
 *
 * <p>Dtypes: float32 (the CPU backend's values exactly: loading it back gives the preset's logits
 * bit for bit), bfloat16 (each value rounded as the CUDA backend rounds its dummy weights), or fp8:
 * the projections in e4m3 with a float32 scale per output channel ({@code weight_scale [out, 1]},
 * the fbgemm_fp8 layout), everything else bfloat16.
 */
public final class CheckpointExport {

  /** What a tensor is stored as. */
  public enum Dtype {
    FLOAT32("float32"), BFLOAT16("bfloat16"), FP8("bfloat16");

    private final String torchDtype;

    Dtype(String torchDtype) {
      this.torchDtype = torchDtype;
    }

    /** "float32", "bfloat16" or "fp8". */
    public static Dtype parse(String s) {
      return switch (s.toLowerCase(Locale.ROOT)) {
        case "float32", "f32" -> FLOAT32;
        case "bfloat16", "bf16" -> BFLOAT16;
        case "fp8", "float8_e4m3fn" -> FP8;
        default -> throw new IllegalArgumentException("dtype must be float32, bfloat16 or fp8, got '" + s + "'");
      };
    }
  }

  private CheckpointExport() {}

  /** Writes {@code weights} into {@code dir} (created; it must not hold a checkpoint already) in {@code shards} files. */
  public static void write(HostWeights weights, Dtype dtype, int shards, Path dir) throws IOException {
    if (shards < 1) throw new IllegalArgumentException("shards must be >= 1, got " + shards);
    Files.createDirectories(dir);
    for (String name : List.of("config.json", CheckpointFiles.SINGLE, CheckpointFiles.INDEX)) {
      if (Files.exists(dir.resolve(name))) throw new IllegalArgumentException(dir + " already holds " + name);
    }
    ModelConfig c = weights.config();
    List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
    String arch = architecture(c);
    for (Kind kind : Kind.values()) {
      if (kind.expertTensor() != null) {
        for (int l = 0; c.isMoe() && l < c.numHiddenLayers(); l++) {
          for (int e = 0; e < (kind.perExpert() ? c.moe().numExperts() : 1); e++) {
            tensors.addAll(tensor(weights, kind, l, kind.perExpert() ? e : -1, kind.expertTensor().name(arch, l, e),
                dtype));
          }
        }
        continue;
      }
      if (!kind.tensor().perLayer()) {
        if (kind != Kind.LM_HEAD || !c.tieWordEmbeddings()) tensors.addAll(tensor(weights, kind, -1, dtype));
        continue;
      }
      if (!c.attentionBias() && (kind == Kind.Q_BIAS || kind == Kind.K_BIAS || kind == Kind.V_BIAS)) continue;
      if (!c.qkNorm() && (kind == Kind.Q_NORM || kind == Kind.K_NORM)) continue;
      if (c.isMoe() && (kind == Kind.GATE_PROJ || kind == Kind.UP_PROJ || kind == Kind.DOWN_PROJ)) continue;
      for (int l = 0; l < c.numHiddenLayers(); l++) tensors.addAll(tensor(weights, kind, l, dtype));
    }
    Map<String, String> meta = Map.of("format", "pt");
    if (shards > tensors.size()) {
      throw new IllegalArgumentException(shards + " shards for " + tensors.size() + " tensors: at most one shard each");
    }
    if (shards == 1) {
      SafetensorsWriter.write(dir.resolve(CheckpointFiles.SINGLE), tensors, meta);
    } else {
      writeShards(tensors, shards, dir, meta);
    }
    Files.writeString(dir.resolve("config.json"), configJson(c, dtype));
  }

  /** Consecutive runs of about equal bytes, named as transformers names shards, and their index. */
  private static void writeShards(List<SafetensorsWriter.Tensor> tensors, int shards, Path dir,
      Map<String, String> meta) throws IOException {
    long total = 0;
    for (SafetensorsWriter.Tensor t : tensors) total += bytes(t);
    ObjectMapper json = new ObjectMapper();
    ObjectNode index = json.createObjectNode();
    index.putObject("metadata").put("total_size", total);
    ObjectNode map = index.putObject("weight_map");
    int from = 0;
    long written = 0;
    for (int s = 0; s < shards; s++) {
      int to = from;
      long target = total * (s + 1) / shards;
      int keep = shards - 1 - s; // tensors left for the later shards, one each at least
      while (to < tensors.size() - keep
          && (written + bytes(tensors.get(to)) <= target || to == from || s == shards - 1)) {
        written += bytes(tensors.get(to));
        to++;
      }
      String name = String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", s + 1, shards);
      List<SafetensorsWriter.Tensor> part = tensors.subList(from, to);
      SafetensorsWriter.write(dir.resolve(name), part, meta);
      for (SafetensorsWriter.Tensor t : part) map.put(t.name(), name);
      from = to;
    }
    Files.write(dir.resolve(CheckpointFiles.INDEX), json.writerWithDefaultPrettyPrinter().writeValueAsBytes(index));
  }

  private static long bytes(SafetensorsWriter.Tensor t) {
    long n = t.dtype().bytes();
    for (long d : t.shape()) n *= d;
    return n;
  }

  /** The tensor (and, as FP8, its per-channel scale) of {@code kind} in {@code layer}. */
  private static List<SafetensorsWriter.Tensor> tensor(HostWeights w, Kind kind, int layer, Dtype dtype) {
    return tensor(w, kind, layer, -1, kind.tensor().name(layer), dtype);
  }

  /** As above, of expert {@code expert} (-1: not per expert), named {@code name}. */
  private static List<SafetensorsWriter.Tensor> tensor(HostWeights w, Kind kind, int layer, int expert, String name,
      Dtype dtype) {
    long[] shape = HostWeights.shape(kind, w.config());
    long cols = shape[shape.length - 1];
    if (dtype == Dtype.FP8 && HostWeights.quantizable(kind)) {
      int rowLength = (int) cols;
      float[] scales = new float[(int) shape[0]];
      for (int r = 0; r < scales.length; r++) {
        long base = (long) r * rowLength;
        scales[r] = Fp8E4m3.scaleFor(w.read(kind, layer, expert, rowLength, i -> base + i));
      }
      return List.of(
          new SafetensorsWriter.Tensor(name, TensorDtype.F8_E4M3, shape, (first, count, out) -> {
            float[] v = w.read(kind, layer, expert, count, i -> first + i);
            for (int i = 0; i < count; i++) out.put(Fp8E4m3.encode(v[i] / scales[(int) ((first + i) / rowLength)]));
          }),
          new SafetensorsWriter.Tensor(name.substring(0, name.length() - "weight".length()) + "weight_scale",
              TensorDtype.F32, new long[] {scales.length, 1}, (first, count, out) -> {
                for (int i = 0; i < count; i++) out.putFloat(scales[(int) first + i]);
              }));
    }
    TensorDtype stored = dtype == Dtype.FLOAT32 ? TensorDtype.F32 : TensorDtype.BF16;
    return List.of(new SafetensorsWriter.Tensor(name, stored, shape, (first, count, out) -> put(
        w.read(kind, layer, expert, count, i -> first + i), stored, out)));
  }

  private static void put(float[] v, TensorDtype dtype, ByteBuffer out) {
    for (float x : v) {
      if (dtype == TensorDtype.F32) {
        out.putFloat(x);
      } else {
        out.putShort(Bf16.fromFloat(x));
      }
    }
  }

  /**
   * The architecture whose tensors and config.json hold {@code c}: Mixtral for a mixture of experts
   * with renormalised top-k and no q/k norms, Qwen3-MoE for one with q/k norms, Qwen2 for attention
   * biases, else Llama.
   */
  static String architecture(ModelConfig c) {
    if (c.isMoe() && c.qkNorm()) return HfConfig.QWEN3_MOE;
    if (c.isMoe() && !c.attentionBias() && c.moe().normTopkProb()) return HfConfig.MIXTRAL;
    if (c.isMoe() || c.qkNorm()) {
      throw new IllegalArgumentException("model " + c.name() + ": no architecture here holds it (Mixtral: experts,"
          + " renormalised top-k, no biases; Qwen3-MoE: experts and q/k norms)");
    }
    return c.attentionBias() ? "Qwen2ForCausalLM" : "LlamaForCausalLM";
  }

  /** A config.json transformers and this engine both read back as {@code c}. */
  static String configJson(ModelConfig c, Dtype dtype) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode o = json.createObjectNode();
    String arch = architecture(c);
    o.putArray("architectures").add(arch);
    o.put("model_type", switch (arch) {
      case HfConfig.MIXTRAL -> "mixtral";
      case HfConfig.QWEN3_MOE -> "qwen3_moe";
      case "Qwen2ForCausalLM" -> "qwen2";
      default -> "llama";
    });
    o.put("hidden_size", c.hiddenSize());
    o.put("intermediate_size", arch.equals(HfConfig.MIXTRAL) ? c.moe().moeIntermediateSize() : c.intermediateSize());
    if (arch.equals(HfConfig.MIXTRAL)) {
      o.put("num_local_experts", c.moe().numExperts());
      o.put("num_experts_per_tok", c.moe().expertsPerToken());
    } else if (arch.equals(HfConfig.QWEN3_MOE)) {
      o.put("num_experts", c.moe().numExperts());
      o.put("num_experts_per_tok", c.moe().expertsPerToken());
      o.put("moe_intermediate_size", c.moe().moeIntermediateSize());
      o.put("norm_topk_prob", c.moe().normTopkProb());
      o.put("attention_bias", c.attentionBias());
    }
    o.put("num_hidden_layers", c.numHiddenLayers());
    o.put("num_attention_heads", c.numAttentionHeads());
    o.put("num_key_value_heads", c.numKeyValueHeads());
    o.put("head_dim", c.headDim());
    o.put("vocab_size", c.vocabSize());
    o.put("max_position_embeddings", c.maxPositionEmbeddings());
    o.put("rope_theta", c.ropeTheta());
    if (c.ropeScaling() != null) {
      ObjectNode r = o.putObject("rope_scaling");
      r.put("rope_type", "llama3");
      r.put("factor", c.ropeScaling().factor());
      r.put("low_freq_factor", c.ropeScaling().lowFreqFactor());
      r.put("high_freq_factor", c.ropeScaling().highFreqFactor());
      r.put("original_max_position_embeddings", c.ropeScaling().originalMaxPositionEmbeddings());
    }
    o.put("rms_norm_eps", c.rmsNormEps());
    o.put("tie_word_embeddings", c.tieWordEmbeddings());
    o.put("hidden_act", "silu");
    o.put("torch_dtype", dtype.torchDtype);
    if (dtype == Dtype.FP8) {
      ObjectNode q = o.putObject("quantization_config");
      q.put("quant_method", "fbgemm_fp8");
      q.putArray("modules_to_not_convert").add("lm_head");
    }
    return json.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n";
  }
}
