package io.decodefleet.agent.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.CheckpointExport.Dtype;
import io.decodefleet.agent.engine.DummyWeights.Kind;
import io.decodefleet.agent.engine.HostWeights;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.MoeConfig;
import io.decodefleet.agent.engine.WeightSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mixture-of-experts checkpoints: Mixtral's and Qwen3-MoE's tensor names and config.json fields
 * read back as the model that was exported, the experts' weights as the dummy ones, and the
 * configurations this engine does not run refused with one line.
 */
class MoeCheckpointTest {

  /** Mixtral's shape in miniature: its experts are intermediate_size wide, top-2 renormalised. */
  static final ModelConfig SMALL_MIXTRAL = new ModelConfig("small-mixtral", 16, 24, 4, 2, 2, 48, 1e4, 1e-5f, 4, 256,
      false, false, false, new MoeConfig(4, 2, 24, true));
  /** Qwen3-MoE's in miniature: q/k norms, experts narrower than the dense width, head_dim apart from hidden/heads. */
  static final ModelConfig SMALL_QWEN3 = new ModelConfig("small-qwen3-moe", 16, 40, 4, 2, 2, 48, 1e4, 1e-6f, 8, 256,
      false, false, true, new MoeConfig(6, 3, 12, false));

  @TempDir
  Path tmp;

  @Test
  void mixtralCheckpointNamesItsExpertsAsTransformersDoesAndReadsBackAsTheModel() throws IOException {
    Path dir = TestCheckpoints.export(SMALL_MIXTRAL, Dtype.FLOAT32, 2, tmp.resolve("mixtral"));
    CheckedCheckpoint c = CheckedCheckpoint.open(dir);
    assertEquals(HfConfig.MIXTRAL, c.config().architecture());
    assertEquals(SMALL_MIXTRAL, ModelConfig.of(c.config(), "small-mixtral"));
    // embed, norm, head + per layer: q k v o, two norms, the router and 3 per expert
    assertEquals(3 + 2 * (4 + 2 + 1 + 3 * 4), c.files().tensors().size());
    assertTrue(c.files().tensors().containsKey("model.layers.1.block_sparse_moe.experts.3.w2.weight"));
    assertTrue(c.files().tensors().containsKey("model.layers.0.block_sparse_moe.gate.weight"));
    assertFalse(c.files().tensors().containsKey("model.layers.0.mlp.gate_proj.weight"));
    assertSameWeights(dir, SMALL_MIXTRAL);
  }

  @Test
  void qwen3MoeCheckpointCarriesItsQkNormsAndExpertsAndReadsBackAsTheModel() throws IOException {
    Path dir = TestCheckpoints.export(SMALL_QWEN3, Dtype.FLOAT32, 1, tmp.resolve("qwen3"));
    CheckedCheckpoint c = CheckedCheckpoint.open(dir);
    assertEquals(HfConfig.QWEN3_MOE, c.config().architecture());
    assertEquals(SMALL_QWEN3, ModelConfig.of(c.config(), "small-qwen3-moe"));
    assertEquals(3 + 2 * (4 + 2 + 2 + 1 + 3 * 6), c.files().tensors().size());
    assertArrayEquals(new long[] {8}, c.files().tensors().get("model.layers.0.self_attn.k_norm.weight").shape());
    assertArrayEquals(new long[] {16, 12},
        c.files().tensors().get("model.layers.1.mlp.experts.5.down_proj.weight").shape());
    assertSameWeights(dir, SMALL_QWEN3);
  }

  /** Every expert's and router's float32 weights in the checkpoint equal the dummy ones they came from. */
  private static void assertSameWeights(Path dir, ModelConfig config) {
    HostWeights dummy = new HostWeights(ModelLoad.dummy(config, 0));
    HostWeights stored = new HostWeights(ModelLoad.of(new ModelSpec(dir.toString(), 0, 16, 0, 0, 0, 0)
        .withWeights(ModelSpec.LoadFormat.SAFETENSORS, ModelSpec.Quantization.NONE, ModelSpec.KvCacheDtype.AUTO)));
    assertTrue(new ModelLoad(config, new WeightSource.Dummy(0), ModelSpec.Quantization.NONE,
        ModelSpec.KvCacheDtype.AUTO).config().isMoe());
    for (Kind kind : List.of(Kind.ROUTER, Kind.EXPERT_GATE, Kind.EXPERT_UP, Kind.EXPERT_DOWN)) {
      int expert = kind.perExpert() ? config.moe().numExperts() - 1 : -1;
      long n = HostWeights.elements(kind, config);
      assertArrayEquals(dummy.read(kind, 1, expert, n, i -> i), stored.read(kind, 1, expert, n, i -> i), kind.name());
    }
  }

  @Test
  void theCpuBackendDecodesAnExportedMixtralCheckpointAsItsDummyWeights() throws IOException {
    ModelConfig tinyMoe = ModelConfig.preset("tiny-moe");
    Path dir = TestCheckpoints.export(tinyMoe, Dtype.FLOAT32, 3, tmp.resolve("tiny-moe"));
    ModelLoad fromDisk = ModelLoad.of(new ModelSpec(dir.toString(), 0, 16, 0, 0, 0, 0)
        .withWeights(ModelSpec.LoadFormat.SAFETENSORS, ModelSpec.Quantization.NONE, ModelSpec.KvCacheDtype.AUTO));
    assertEquals(HfConfig.MIXTRAL, ((WeightSource.Checkpoint) fromDisk.weights()).checkpoint().config()
        .architecture());
    int[] prompt = {7, 300, 12, 999, 41, 5, 77, 8, 123};
    try (var dummy = new io.decodefleet.agent.backend.cpu.CpuBackend();
        var disk = new io.decodefleet.agent.backend.cpu.CpuBackend()) {
      dummy.loadModel(ModelLoad.dummy(tinyMoe, 0));
      disk.loadModel(fromDisk);
      assertArrayEquals(dummy.forwardWithoutCache(prompt), disk.forwardWithoutCache(prompt));
    }
  }

  @Test
  void refusesWhatTheSparseLayersHereDoNotRun() throws IOException {
    Path dir = TestCheckpoints.export(SMALL_QWEN3, Dtype.BFLOAT16, 1, tmp.resolve("refused"));
    Path config = dir.resolve("config.json");
    String original = java.nio.file.Files.readString(config);
    TestCheckpoints.editConfig(dir, c -> c.put("decoder_sparse_step", 2));
    assertEquals(config + ": decoder_sparse_step 2 is not supported (every layer sparse: 1)", refusal(dir));
    java.nio.file.Files.writeString(config, original);
    TestCheckpoints.editConfig(dir, c -> c.putArray("mlp_only_layers").add(0));
    assertEquals(config + ": mlp_only_layers [0] is not supported (every layer sparse: [])", refusal(dir));
    java.nio.file.Files.writeString(config, original);
    TestCheckpoints.editConfig(dir, c -> c.put("num_experts_per_tok", 7));
    assertEquals(config + ": num_experts_per_tok 7 is more than the 6 experts", refusal(dir));
    java.nio.file.Files.writeString(config, original);
    TestCheckpoints.editConfig(dir, c -> c.put("shared_expert_intermediate_size", 32));
    assertEquals(config + ": shared_expert_intermediate_size: shared experts are not supported", refusal(dir));
    java.nio.file.Files.writeString(config, original);
    TestCheckpoints.editConfig(dir, c -> c.put("num_experts", 7));
    assertEquals(dir.resolve("model.safetensors") + ": tensor 'model.layers.0.mlp.gate.weight': shape [6, 16] but"
        + " config.json gives [7, 16]", refusal(dir));
  }

  private static String refusal(Path dir) {
    CheckpointException e = assertThrows(CheckpointException.class, () -> CheckedCheckpoint.open(dir));
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    return e.getMessage();
  }
}
