package io.decodefleet.agent.engine.checkpoint;

import static io.decodefleet.agent.engine.checkpoint.TestCheckpoints.SMALL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.CheckpointExport.Dtype;
import io.decodefleet.agent.engine.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model directory checked against its config.json before any weight is read: what loads, what is
 * skipped and counted, and every refusal with the one line it gives (naming the file and tensor).
 */
class CheckedCheckpointTest {

  @TempDir
  Path tmp;

  private Path valid(Dtype dtype) throws IOException {
    return TestCheckpoints.export(SMALL, dtype, 1, tmp.resolve("valid-" + dtype));
  }

  /** A copy of the BF16 checkpoint with its tensor list changed by {@code change}. */
  private Path changed(String name, UnaryOperator<List<TestCheckpoints.Raw>> change) throws IOException {
    Path from = valid(Dtype.BFLOAT16);
    return TestCheckpoints.rewrite(from, tmp.resolve(name), change.apply(new ArrayList<>(TestCheckpoints.tensors(from))));
  }

  private static String refusal(Path dir) {
    CheckpointException e = assertThrows(CheckpointException.class, () -> CheckedCheckpoint.open(dir));
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    return e.getMessage();
  }

  private static TestCheckpoints.Raw find(List<TestCheckpoints.Raw> ts, String name) {
    return ts.stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void anExportedCheckpointChecksOutWithEveryTensorUsed() throws IOException {
    CheckedCheckpoint c = CheckedCheckpoint.open(valid(Dtype.BFLOAT16));
    assertEquals("LlamaForCausalLM", c.config().architecture());
    assertEquals(SMALL, ModelConfig.of(c.config(), "small"));
    assertEquals(Map.of(), c.skipped());
    assertEquals(3 + 9 * SMALL.numHiddenLayers(), c.files().tensors().size());
    assertFalse(c.hasFp8());
    assertTrue(c.describe().startsWith("1 file, 21 tensors, "), c.describe());
  }

  @Test
  void anFp8CheckpointPairsEachProjectionWithItsPerChannelScale() throws IOException {
    CheckedCheckpoint c = CheckedCheckpoint.open(valid(Dtype.FP8));
    assertTrue(c.hasFp8());
    CheckedCheckpoint.Tensor down = c.tensor(LlamaTensor.DOWN_PROJ, 1);
    assertTrue(down.fp8() && down.perChannel());
    assertEquals("model.layers.1.mlp.down_proj.weight_scale", down.scale().name());
    assertFalse(c.tensor(LlamaTensor.EMBED_TOKENS, 0).fp8(), "the embedding stays bf16");
  }

  @Test
  void rotaryInverseFrequenciesInputScalesAndATiedHeadAreSkippedAndCounted() throws IOException {
    Path fp8 = valid(Dtype.FP8);
    List<TestCheckpoints.Raw> ts = new ArrayList<>(TestCheckpoints.tensors(fp8));
    TestCheckpoints.Raw scalar = new TestCheckpoints.Raw("x", TensorDtype.F32, new long[] {}, new byte[4]);
    ts.add(scalar.with("model.layers.0.self_attn.rotary_emb.inv_freq"));
    ts.add(scalar.with("model.layers.1.self_attn.rotary_emb.inv_freq"));
    ts.add(scalar.with("model.layers.0.self_attn.q_proj.input_scale"));
    Path dir = TestCheckpoints.rewrite(fp8, tmp.resolve("extras"), ts);
    TestCheckpoints.editConfig(dir, c -> c.put("tie_word_embeddings", true)); // the head left in is not read
    CheckedCheckpoint c = CheckedCheckpoint.open(dir);
    assertEquals(Map.of("rotary_emb.inv_freq", 2, "input_scale", 1, "lm_head.weight (tied to the embeddings)", 1),
        c.skipped());
    assertTrue(c.describe().endsWith("4 skipped: input_scale x1 lm_head.weight (tied to the embeddings) x1"
        + " rotary_emb.inv_freq x2"), c.describe());
  }

  @Test
  void kvCacheScalesAreKeptPerLayer() throws IOException {
    Path dir = changed("kv-scales", ts -> {
      ts.add(new TestCheckpoints.Raw("model.layers.1.self_attn.k_scale", TensorDtype.F32, new long[] {}, new byte[4]));
      return ts;
    });
    CheckedCheckpoint c = CheckedCheckpoint.open(dir);
    assertEquals("model.layers.1.self_attn.k_scale", c.kvScale(1, true).name());
    assertEquals(null, c.kvScale(0, true));
    assertEquals(null, c.kvScale(1, false));
  }

  @Test
  void refusesAMissingTensor() throws IOException {
    Path dir = changed("missing", ts -> {
      ts.removeIf(t -> t.name().equals("model.layers.1.mlp.up_proj.weight"));
      return ts;
    });
    assertEquals(dir + ": tensor 'model.layers.1.mlp.up_proj.weight' is missing (LlamaForCausalLM with this"
        + " config.json needs it, shape [40, 16])", refusal(dir));
  }

  @Test
  void refusesAnUnexpectedTensor() throws IOException {
    Path dir = changed("unexpected", ts -> {
      ts.add(find(ts, "model.layers.0.input_layernorm.weight").with("model.layers.2.input_layernorm.weight"));
      return ts;
    });
    assertEquals(dir.resolve("model.safetensors") + ": tensor 'model.layers.2.input_layernorm.weight': unexpected:"
        + " not a tensor of LlamaForCausalLM with 2 layers and no attention bias", refusal(dir));
  }

  @Test
  void refusesAWrongShape() throws IOException {
    Path dir = changed("shape", ts -> {
      TestCheckpoints.Raw q = find(ts, "model.layers.0.self_attn.q_proj.weight");
      ts.set(ts.indexOf(q), new TestCheckpoints.Raw(q.name(), q.dtype(), new long[] {8, 32}, q.bytes()));
      return ts;
    });
    assertEquals(dir.resolve("model.safetensors") + ": tensor 'model.layers.0.self_attn.q_proj.weight': shape"
        + " [8, 32] but config.json gives [16, 16]", refusal(dir));
  }

  @Test
  void refusesAWrongDtype() throws IOException {
    Path dir = changed("dtype", ts -> {
      TestCheckpoints.Raw n = find(ts, "model.norm.weight");
      ts.set(ts.indexOf(n), new TestCheckpoints.Raw(n.name(), TensorDtype.I16, n.shape(), n.bytes()));
      TestCheckpoints.Raw o = find(ts, "model.layers.1.self_attn.o_proj.weight");
      ts.set(ts.indexOf(o), new TestCheckpoints.Raw(o.name(), TensorDtype.I16, o.shape(), o.bytes()));
      return ts;
    });
    assertEquals(dir.resolve("model.safetensors") + ": tensor 'model.layers.1.self_attn.o_proj.weight': dtype I16 is"
        + " not supported (BF16, F16, F32, or F8_E4M3 with a weight_scale)", refusal(dir));
  }

  @Test
  void refusesAnFp8WeightWithoutItsScale() throws IOException {
    Path fp8 = valid(Dtype.FP8);
    List<TestCheckpoints.Raw> ts = new ArrayList<>(TestCheckpoints.tensors(fp8));
    ts.removeIf(t -> t.name().equals("model.layers.0.mlp.gate_proj.weight_scale"));
    Path dir = TestCheckpoints.rewrite(fp8, tmp.resolve("no-scale"), ts);
    assertEquals(dir.resolve("model.safetensors") + ": tensor 'model.layers.0.mlp.gate_proj.weight': F8_E4M3 without"
        + " model.layers.0.mlp.gate_proj.weight_scale", refusal(dir));
  }

  @Test
  void refusesBlockWiseScales() throws IOException {
    Path fp8 = valid(Dtype.FP8);
    List<TestCheckpoints.Raw> ts = new ArrayList<>(TestCheckpoints.tensors(fp8));
    TestCheckpoints.Raw s = find(ts, "model.layers.0.mlp.gate_proj.weight_scale");
    ts.set(ts.indexOf(s), s.with("model.layers.0.mlp.gate_proj.weight_scale_inv"));
    Path dir = TestCheckpoints.rewrite(fp8, tmp.resolve("block"), ts);
    assertEquals(dir.resolve("model.safetensors") + ": tensor 'model.layers.0.mlp.gate_proj.weight': block-wise FP8"
        + " scales (model.layers.0.mlp.gate_proj.weight_scale_inv) are not supported", refusal(dir));
  }

  @Test
  void refusesAScaleOfTheWrongShape() throws IOException {
    Path fp8 = valid(Dtype.FP8);
    List<TestCheckpoints.Raw> ts = new ArrayList<>(TestCheckpoints.tensors(fp8));
    TestCheckpoints.Raw s = find(ts, "model.layers.1.self_attn.k_proj.weight_scale");
    ts.set(ts.indexOf(s), new TestCheckpoints.Raw(s.name(), TensorDtype.F32, new long[] {1, 8}, s.bytes()));
    Path dir = TestCheckpoints.rewrite(fp8, tmp.resolve("scale-shape"), ts);
    assertEquals(dir.resolve("model.safetensors") + ": tensor 'model.layers.1.self_attn.k_proj.weight_scale': F32"
        + " [1, 8] is not an FP8 scale: a float per tensor ([] or [1]) or per output channel ([8] or [8, 1])",
        refusal(dir));
  }

  @Test
  void refusesAScaleBesideAWeightThatIsNotFp8() throws IOException {
    Path dir = changed("stray-scale", ts -> {
      ts.add(new TestCheckpoints.Raw("model.layers.0.mlp.up_proj.weight_scale", TensorDtype.F32, new long[] {},
          new byte[4]));
      return ts;
    });
    assertEquals(dir.resolve("model.safetensors") + ": tensor 'model.layers.0.mlp.up_proj.weight_scale': a"
        + " weight_scale for a weight that is not F8_E4M3", refusal(dir));
  }

  @Test
  void refusesConfigsOfOtherModels() throws IOException {
    Path dir = valid(Dtype.BFLOAT16);
    Path config = dir.resolve("config.json");
    String original = Files.readString(config);
    TestCheckpoints.editConfig(dir, c -> c.putArray("architectures").add("GPT2LMHeadModel"));
    assertEquals(config + ": architecture GPT2LMHeadModel is not supported (supported: LlamaForCausalLM,"
        + " MistralForCausalLM, Qwen2ForCausalLM, MixtralForCausalLM, Qwen3MoeForCausalLM)", refusal(dir));
    Files.writeString(config, original);
    TestCheckpoints.editConfig(dir, c -> c.remove("intermediate_size"));
    assertEquals(config + ": intermediate_size is missing", refusal(dir));
    Files.writeString(config, original);
    TestCheckpoints.editConfig(dir, c -> c.put("num_hidden_layers", 2.5));
    assertEquals(config + ": num_hidden_layers = 2.5 is not a positive integer", refusal(dir));
    Files.writeString(config, original);
    TestCheckpoints.editConfig(dir, c -> c.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0));
    assertEquals(config + ": rope_scaling {\"rope_type\":\"yarn\",\"factor\":4.0} is not supported (plain RoPE,"
        + " or rope_type llama3 as Llama 3.1 has)", refusal(dir));
    Files.writeString(config, original);
    TestCheckpoints.editConfig(dir, c -> c.putObject("rope_scaling").put("rope_type", "llama3"));
    assertEquals(config + ": rope_scaling.factor is missing", refusal(dir));
    Files.writeString(config, original);
    TestCheckpoints.editConfig(dir, c -> c.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0)
        .put("low_freq_factor", 4.0).put("high_freq_factor", 1.0).put("original_max_position_embeddings", 8192));
    assertEquals(config + ": rope_scaling: high_freq_factor must be finite and > low_freq_factor", refusal(dir));
    Files.writeString(config, original);
    TestCheckpoints.editConfig(dir, c -> c.put("sliding_window", 128));
    assertEquals(config + ": sliding_window 128 is shorter than max_position_embeddings 256: sliding-window attention"
        + " is not supported", refusal(dir));
    Files.writeString(config, original);
    TestCheckpoints.editConfig(dir, c -> c.putObject("quantization_config").put("quant_method", "awq"));
    assertEquals(config + ": quantization_config.quant_method 'awq' is not supported (FP8 checkpoints are: fp8,"
        + " fbgemm_fp8, compressed-tensors)", refusal(dir));
    Files.writeString(config, original);
    TestCheckpoints.editConfig(dir, c -> c.putObject("quantization_config").put("quant_method", "fp8")
        .putArray("weight_block_size").add(128).add(128));
    assertEquals(config + ": quantization_config.weight_block_size [128,128]: block-wise FP8 scales are not supported"
        + " (per-tensor and per-channel ones are)", refusal(dir));
    Files.writeString(config, "{\"architectures\": [\"LlamaForCausalLM\"],");
    assertTrue(refusal(dir).startsWith(config + ": malformed JSON config at line 1, column "), refusal(dir));
  }

  @Test
  void qwen2ConfigsNeedTheirAttentionBiases() throws IOException {
    Path dir = valid(Dtype.BFLOAT16);
    TestCheckpoints.editConfig(dir, c -> c.putArray("architectures").add("Qwen2ForCausalLM"));
    assertEquals(dir + ": tensor 'model.layers.0.self_attn.q_proj.bias' is missing (Qwen2ForCausalLM with this"
        + " config.json needs it, shape [16])", refusal(dir));
  }

  @Test
  void refusesADirectoryWithoutAConfigOrACheckpoint() throws IOException {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertEquals(empty + ": no config.json", refusal(empty));
    Files.copy(valid(Dtype.BFLOAT16).resolve("config.json"), empty.resolve("config.json"));
    Files.write(empty.resolve("model-00001-of-00002.safetensors"), new byte[0]);
    assertEquals(empty + ": no model.safetensors and no model.safetensors.index.json (safetensors files here:"
        + " model-00001-of-00002.safetensors)", refusal(empty));
    assertEquals(tmp.resolve("none") + ": not a directory", refusal(tmp.resolve("none")));
  }

  @Test
  void aShardedCheckpointChecksOutAcrossItsFiles() throws IOException {
    Path dir = TestCheckpoints.export(SMALL, Dtype.BFLOAT16, 3, tmp.resolve("sharded"));
    CheckedCheckpoint c = CheckedCheckpoint.open(dir);
    assertEquals(3, c.files().files().size());
    assertEquals(21, c.files().tensors().size());
    assertEquals(dir.resolve("model-00003-of-00003.safetensors"), c.tensor(LlamaTensor.LM_HEAD, 0).weight().file());
  }

  @Test
  void refusesAnIndexThatDisagreesWithItsShards() throws IOException {
    Path dir = TestCheckpoints.export(SMALL, Dtype.BFLOAT16, 2, tmp.resolve("index"));
    Path index = dir.resolve(CheckpointFiles.INDEX);
    String original = Files.readString(index);
    Files.writeString(index, original.replace("\"model.norm.weight\" : \"model-00002-of-00002.safetensors\"",
        "\"model.norm.weight\" : \"model-00001-of-00002.safetensors\""));
    assertEquals(dir.resolve("model-00002-of-00002.safetensors") + ": tensor 'model.norm.weight': is placed in"
        + " model-00001-of-00002.safetensors by model.safetensors.index.json", refusal(dir));
    Files.writeString(index, original.replace("\"model.norm.weight\" : \"model-00002-of-00002.safetensors\"",
        "\"model.norm.weight\" : \"../model-00002-of-00002.safetensors\""));
    assertEquals(index + ": weight_map['model.norm.weight'] = '../model-00002-of-00002.safetensors' is not a file name"
        + " in the model directory", refusal(dir));
    Files.writeString(index, original.replace("\"weight_map\" : {", "\"weight_map\" : {\n    \"extra.weight\" :"
        + " \"model-00001-of-00002.safetensors\","));
    assertEquals(dir.resolve("model-00001-of-00002.safetensors") + ": tensor 'extra.weight': is missing"
        + " (model.safetensors.index.json places it in this file)", refusal(dir));
    Files.writeString(index, original.replace("\"model.norm.weight\" : \"model-00002-of-00002.safetensors\",", ""));
    assertEquals(dir.resolve("model-00002-of-00002.safetensors") + ": tensor 'model.norm.weight': is not in"
        + " model.safetensors.index.json's weight_map", refusal(dir));
    Files.writeString(index, original);
    Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
    assertTrue(refusal(dir).matches(java.util.regex.Pattern.quote(index.toString()) + ": shard"
        + " model-00002-of-00002.safetensors \\(of tensor '.*'\\) is not in " + java.util.regex.Pattern.quote(dir.toString())),
        refusal(dir));
  }
}
