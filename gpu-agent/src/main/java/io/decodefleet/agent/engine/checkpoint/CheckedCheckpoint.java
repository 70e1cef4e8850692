package io.decodefleet.agent.engine.checkpoint;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model directory whose every tensor was checked against its config.json before any weight is
 * read: each tensor the architecture needs is there with its shape and a float dtype (bf16, fp16,
 * fp32) or, for a projection, FP8 e4m3fn with a {@code weight_scale} per tensor ({@code []} or
 * {@code [1]}) or per output channel ({@code [out]} or {@code [out, 1]}).
 *
 * <p>Of the tensors the model does not use, these are skipped and counted, as vLLM skips them:
 * {@code rotary_emb.inv_freq} (recomputed from rope_theta), {@code lm_head.weight} of a model with
 * tied embeddings, a projection's {@code input_scale} (the static activation scale of an FP8
 * checkpoint: activations stay unquantized here, see docs/fp8.md) and the attention's {@code k_scale}
 * / {@code v_scale}, which are kept for an FP8 KV cache. Any other tensor is refused, so that a
 * checkpoint of another shape or architecture cannot load half-used.
 */
public final class CheckedCheckpoint {

  /** A weight and, when it is FP8, its scale; {@code part} is null for a router's or an expert's. */
  public record Tensor(LlamaTensor part, int layer, TensorEntry weight, TensorEntry scale) {
    public boolean fp8() {
      return weight.dtype() == TensorDtype.F8_E4M3;
    }

    /** Whether the FP8 scale has one value per output row. */
    public boolean perChannel() {
      return scale != null && scale.elements() > 1;
    }
  }

  private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d{1,9})\\.(.+)");

  private final HfConfig config;
  private final CheckpointFiles files;
  private final Map<String, Tensor> tensors = new HashMap<>();
  private final TensorEntry[] kScales;
  private final TensorEntry[] vScales;
  private final Map<String, Integer> skipped = new TreeMap<>();

  private CheckedCheckpoint(HfConfig config, CheckpointFiles files) {
    this.config = config;
    this.files = files;
    this.kScales = new TensorEntry[config.numHiddenLayers()];
    this.vScales = new TensorEntry[config.numHiddenLayers()];
  }

  /** Reads {@code directory}'s config.json and every safetensors header, and checks one against the other. */
  public static CheckedCheckpoint open(Path directory) {
    if (!java.nio.file.Files.isDirectory(directory)) {
      throw new CheckpointException(directory + ": not a directory");
    }
    Path configFile = directory.resolve("config.json");
    if (!java.nio.file.Files.isRegularFile(configFile)) {
      throw new CheckpointException(directory + ": no config.json");
    }
    return check(HfConfig.read(configFile), CheckpointFiles.open(directory));
  }

  /** Checks every tensor of {@code files} against {@code config}. */
  public static CheckedCheckpoint check(HfConfig config, CheckpointFiles files) {
    CheckedCheckpoint c = new CheckedCheckpoint(config, files);
    Set<String> used = new HashSet<>();
    for (LlamaTensor part : LlamaTensor.values()) {
      if (!part.presentIn(config)) continue;
      for (int l = 0; l < (part.perLayer() ? config.numHiddenLayers() : 1); l++) {
        c.tensors.put(part.name(l), c.expect(part.name(l), part.shape(config), part.linear(), part, l, used));
      }
    }
    for (int l = 0; config.moe() && l < config.numHiddenLayers(); l++) {
      for (ExpertTensor part : ExpertTensor.values()) {
        for (int e = 0; e < (part.perExpert() ? config.numExperts() : 1); e++) {
          String name = part.name(config.architecture(), l, e);
          c.tensors.put(name, c.expect(name, part.shape(config), part.perExpert(), null, l, used));
        }
      }
    }
    for (TensorEntry t : files.tensors().values()) {
      if (!used.contains(t.name())) c.classifyExtra(t);
    }
    return c;
  }

  /** @param linear whether it is a projection's weight, which may be FP8 with a scale */
  private Tensor expect(String name, long[] shape, boolean linear, LlamaTensor part, int layer, Set<String> used) {
    TensorEntry t = files.tensors().get(name);
    if (t == null) {
      throw new CheckpointException(files.directory() + ": tensor '" + name + "' is missing (" + config.architecture()
          + " with this config.json needs it, shape " + Arrays.toString(shape) + ")");
    }
    used.add(name);
    if (!t.hasShape(shape)) {
      throw CheckpointException.tensor(t.file(), name, "shape " + Arrays.toString(t.shape()) + " but config.json"
          + " gives " + Arrays.toString(shape));
    }
    if (t.dtype().isFloat()) return new Tensor(part, layer, t, null);
    if (t.dtype() != TensorDtype.F8_E4M3 || !linear) {
      throw CheckpointException.tensor(t.file(), name, "dtype " + t.dtype() + " is not supported (BF16, F16, F32"
          + (linear ? ", or F8_E4M3 with a weight_scale" : "") + ")");
    }
    String scaleName = name.substring(0, name.length() - "weight".length()) + "weight_scale";
    TensorEntry scale = files.tensors().get(scaleName);
    if (scale == null) {
      String inverse = scaleName + "_inv";
      throw CheckpointException.tensor(t.file(), name, files.tensors().containsKey(inverse)
          ? "block-wise FP8 scales (" + inverse + ") are not supported" : "F8_E4M3 without " + scaleName);
    }
    used.add(scaleName);
    long rows = shape[0];
    if (!scale.dtype().isFloat() || !(scale.elements() == 1 && scale.rank() <= 1 || scale.hasShape(rows)
        || scale.hasShape(rows, 1))) {
      throw CheckpointException.tensor(scale.file(), scaleName, scale.describe() + " is not an FP8 scale: a float"
          + " per tensor ([] or [1]) or per output channel ([" + rows + "] or [" + rows + ", 1])");
    }
    return new Tensor(part, layer, t, scale);
  }

  private void classifyExtra(TensorEntry t) {
    String name = t.name();
    Matcher m = LAYER.matcher(name);
    if (m.matches() && Integer.parseInt(m.group(1)) < config.numHiddenLayers()) {
      int layer = Integer.parseInt(m.group(1));
      String rest = m.group(2);
      if (rest.equals("self_attn.rotary_emb.inv_freq")) {
        skip("rotary_emb.inv_freq");
        return;
      }
      if (rest.endsWith(".input_scale") && scalar(t)) {
        Tensor w = tensors.get(name.substring(0, name.length() - "input_scale".length()) + "weight");
        if (w != null && w.fp8()) {
          skip("input_scale");
          return;
        }
      }
      if ((rest.equals("self_attn.k_scale") || rest.equals("self_attn.v_scale")) && scalar(t)) {
        (rest.startsWith("self_attn.k") ? kScales : vScales)[layer] = t;
        return;
      }
      if (rest.endsWith(".weight_scale")) {
        throw CheckpointException.tensor(t.file(), name, "a weight_scale for a weight that is not F8_E4M3");
      }
    }
    if (name.equals(LlamaTensor.LM_HEAD.name(0)) && config.tieWordEmbeddings()) {
      skip("lm_head.weight (tied to the embeddings)");
      return;
    }
    throw CheckpointException.tensor(t.file(), name, "unexpected: not a tensor of " + config.architecture() + " with "
        + config.numHiddenLayers() + " layers" + (config.attentionBias() ? "" : " and no attention bias"));
  }

  private static boolean scalar(TensorEntry t) {
    return t.dtype().isFloat() && t.elements() == 1 && t.rank() <= 1;
  }

  private void skip(String kind) {
    skipped.merge(kind, 1, Integer::sum);
  }

  public HfConfig config() {
    return config;
  }

  public CheckpointFiles files() {
    return files;
  }

  public Path directory() {
    return files.directory();
  }

  /** The checked tensor {@code part} of {@code layer} (layer ignored for a tensor not per layer). */
  public Tensor tensor(LlamaTensor part, int layer) {
    Tensor t = tensors.get(part.name(layer));
    if (t == null) throw new IllegalArgumentException(part.name(layer) + " is not in this checkpoint");
    return t;
  }

  /** The checked router (expert ignored) or expert tensor {@code part} of {@code layer}. */
  public Tensor expertTensor(ExpertTensor part, int layer, int expert) {
    String name = part.name(config.architecture(), layer, expert);
    Tensor t = tensors.get(name);
    if (t == null) throw new IllegalArgumentException(name + " is not in this checkpoint");
    return t;
  }

  /** The K (or V) cache scale of {@code layer} the checkpoint gives, or null. */
  public TensorEntry kvScale(int layer, boolean key) {
    return (key ? kScales : vScales)[layer];
  }

  /** Whether any weight is FP8. */
  public boolean hasFp8() {
    return tensors.values().stream().anyMatch(Tensor::fp8);
  }

  /** Tensors skipped, by kind; empty when every tensor is used. */
  public Map<String, Integer> skipped() {
    return java.util.Collections.unmodifiableMap(skipped);
  }

  /** e.g. "2 files, 14 tensors, 1.2 MB (BF16), 4 skipped: rotary_emb.inv_freq x4". */
  public String describe() {
    Map<TensorDtype, Integer> dtypes = new TreeMap<>();
    for (Tensor t : tensors.values()) dtypes.merge(t.weight().dtype(), 1, Integer::sum);
    StringBuilder sb = new StringBuilder();
    sb.append(files.files().size()).append(files.files().size() == 1 ? " file, " : " files, ")
        .append(files.tensors().size()).append(" tensors, ")
        .append(String.format(java.util.Locale.ROOT, "%.1f MB ", files.dataBytes() / 1e6)).append(dtypes);
    int skippedCount = skipped.values().stream().mapToInt(Integer::intValue).sum();
    if (skippedCount > 0) {
      sb.append(", ").append(skippedCount).append(" skipped:");
      skipped.forEach((k, n) -> sb.append(' ').append(k).append(" x").append(n));
    }
    return sb.toString();
  }
}
