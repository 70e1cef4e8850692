package io.decodefleet.agent.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.CheckpointExport.Dtype;
import io.decodefleet.agent.engine.DummyWeights.Kind;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.HostWeights;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.checkpoint.CheckpointException;
import io.decodefleet.agent.engine.checkpoint.TestCheckpoints;
import io.decodefleet.kernels.cuda.Bf16;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CPU backend on checkpoints written in Java: the preset tiny's dummy weights exported and
 * loaded back give its logits exactly (float32, one file or sharded), bf16 holds them rounded as the
 * CUDA backend does, and a Qwen2-style model's biases load and count.
 */
class CheckpointLogitsTest {
  private static final ModelConfig TINY = ModelConfig.preset("tiny");
  private static final int[] TOKENS = {1, 17, 400, 3, 999, 64, 5, 1023, 0, 77, 12};

  @TempDir
  Path tmp;

  private static ModelSpec spec(Path dir) {
    return new ModelSpec(dir.toString(), 0, 16, 0, 0, 0, 0.0).withWeights(ModelSpec.LoadFormat.SAFETENSORS,
        ModelSpec.Quantization.NONE, ModelSpec.KvCacheDtype.AUTO);
  }

  /** Dense logits of TOKENS, and the paged ones of a prefill of them into scattered blocks. */
  private static float[][] logits(ModelLoad load) {
    try (CpuBackend b = new CpuBackend(8L << 20)) {
      b.loadModel(load);
      b.allocateKvCache(8, 4);
      int n = TOKENS.length;
      int[] blocks = {5, 2, 7};
      int[] positions = new int[n];
      int[] slots = new int[n];
      int[][] tables = new int[n][];
      int[] ctx = new int[n];
      for (int i = 0; i < n; i++) {
        positions[i] = i;
        slots[i] = blocks[i / 4] * 4 + i % 4;
        tables[i] = blocks;
        ctx[i] = i + 1;
      }
      float[] paged = b.forward(new ForwardBatch(TOKENS, positions, slots, tables, ctx, positions.clone()));
      return new float[][] {b.forwardWithoutCache(TOKENS), paged};
    }
  }

  @Test
  void tinysDummyWeightsExportedAsFloat32GiveItsLogitsExactly() throws IOException {
    Path dir = TestCheckpoints.export(TINY, Dtype.FLOAT32, 1, tmp.resolve("tiny-f32"));
    float[][] dummy = logits(ModelLoad.dummy(TINY, 0));
    float[][] loaded = logits(ModelLoad.of(spec(dir)));
    assertArrayEquals(dummy[0], loaded[0], 0f, "dense logits");
    assertArrayEquals(dummy[1], loaded[1], 0f, "paged logits");
    assertEquals(dir.toString(), ModelLoad.of(spec(dir)).config().name());
  }

  /**
   * Llama 3.1's rope_scaling: a checkpoint whose config.json has it loads with it, gives the logits of
   * the same model in memory, and they are not plain RoPE's (tiny's weights, the frequencies past a
   * wavelength of 64 slowed 8 times, so that positions 0 to 10 already turn differently).
   */
  @Test
  void aLlama31CheckpointRotatesByItsScaledFrequencies() throws IOException {
    ModelConfig scaled = new ModelConfig("tiny-llama31", 128, 384, 4, 2, 4, 1024, 10000.0, 1e-5f, 32, 2048, false,
        false, false, null, new io.decodefleet.agent.engine.checkpoint.RopeScaling(8.0, 1.0, 4.0, 64));
    Path dir = TestCheckpoints.export(scaled, Dtype.FLOAT32, 1, tmp.resolve("tiny-llama31"));
    ModelLoad load = ModelLoad.of(spec(dir));
    assertEquals(scaled.ropeScaling(), load.config().ropeScaling());
    float[][] fromDisk = logits(load);
    float[][] inMemory = logits(ModelLoad.dummy(scaled, 0));
    assertArrayEquals(inMemory[0], fromDisk[0], 0f, "dense logits");
    assertArrayEquals(inMemory[1], fromDisk[1], 0f, "paged logits");
    float[][] plain = logits(ModelLoad.dummy(TINY, 0));
    assertFalse(Arrays.equals(plain[0], inMemory[0]), "the scaled frequencies turn the keys differently");
    assertArrayEquals(io.decodefleet.kernels.reference.Rope.llama3Frequencies(32, 10000.0, 8.0, 1.0, 4.0, 64),
        load.config().ropeFrequencies(), 0.0);
  }

  @Test
  void aShardedExportGivesTheSameLogitsAsOneFile() throws IOException {
    Path dir = TestCheckpoints.export(TINY, Dtype.FLOAT32, 3, tmp.resolve("tiny-f32-sharded"));
    assertArrayEquals(logits(ModelLoad.dummy(TINY, 0))[0], logits(ModelLoad.of(spec(dir)))[0], 0f);
  }

  @Test
  void tensorParallelRanksReadTheirSlicesOfTheCheckpoint() throws Exception {
    Path dir = TestCheckpoints.export(TINY, Dtype.FLOAT32, 2, tmp.resolve("tiny-tp"));
    assertArrayEquals(tensorParallelLogits(ModelLoad.dummy(TINY, 0)), tensorParallelLogits(ModelLoad.of(spec(dir))),
        0f, "two ranks on the checkpoint against two ranks on the dummy weights");
  }

  private static float[] tensorParallelLogits(ModelLoad load) throws Exception {
    java.util.List<java.util.function.Supplier<io.decodefleet.agent.engine.Backend>> ranks =
        java.util.List.of(() -> new CpuBackend(1 << 20), () -> new CpuBackend(1 << 20));
    try (io.decodefleet.agent.engine.tp.TensorParallelBackend group = new io.decodefleet.agent.engine.tp
        .TensorParallelBackend("tp", ranks, java.time.Duration.ofSeconds(20))) {
      group.loadModel(load);
      group.allocateKvCache(4, 16);
      return group.forwardWithoutCache(TOKENS);
    }
  }

  @Test
  void aBf16ExportHoldsEveryWeightRoundedAsTheCudaBackendRoundsIt() throws IOException {
    Path dir = TestCheckpoints.export(TINY, Dtype.BFLOAT16, 2, tmp.resolve("tiny-bf16"));
    HostWeights dummy = new HostWeights(ModelLoad.dummy(TINY, 0));
    HostWeights loaded = new HostWeights(ModelLoad.of(spec(dir)));
    int tensors = 0;
    for (Kind kind : Kind.values()) {
      if (kind == Kind.Q_BIAS || kind == Kind.K_BIAS || kind == Kind.V_BIAS) continue;
      if (kind == Kind.Q_NORM || kind == Kind.K_NORM || kind.expertTensor() != null) continue; // not in a dense Llama
      for (int l = kind.tensor().perLayer() ? 0 : -1; l < (kind.tensor().perLayer() ? TINY.numHiddenLayers() : 0); l++) {
        float[] want = dummy.read(kind, l);
        Bf16.roundInPlace(want);
        assertArrayEquals(want, loaded.read(kind, l), 0f, kind + " of layer " + l);
        tensors++;
      }
    }
    assertEquals(3 + 9 * TINY.numHiddenLayers(), tensors);
    float[] exact = logits(ModelLoad.dummy(TINY, 0))[0];
    float[] rounded = logits(ModelLoad.of(spec(dir)))[0];
    assertFalse(Arrays.equals(exact, rounded), "bf16 weights change the logits a little");
    assertTrue(relativeL2(exact, rounded) < 3e-2, "bf16 against float32: " + relativeL2(exact, rounded));
  }

  @Test
  void qwen2AttentionBiasesLoadAndChangeTheLogits() throws IOException {
    ModelConfig biased = new ModelConfig("biased", 64, 96, 4, 2, 2, 1024, 1e6, 1e-6f, 16, 512, false, true);
    Path dir = TestCheckpoints.export(biased, Dtype.FLOAT32, 1, tmp.resolve("qwen2"));
    ModelLoad load = ModelLoad.of(spec(dir));
    assertTrue(load.config().attentionBias());
    float[] withBias = logits(ModelLoad.dummy(biased, 0))[0];
    assertArrayEquals(withBias, logits(load)[0], 0f, "the checkpoint's biases are the dummy ones");
    ModelConfig unbiased = new ModelConfig("unbiased", 64, 96, 4, 2, 2, 1024, 1e6, 1e-6f, 16, 512, false, false);
    assertFalse(Arrays.equals(withBias, logits(ModelLoad.dummy(unbiased, 0))[0]), "biases are added");
  }

  @Test
  void aPresetCannotLoadSafetensorsAndABadCheckpointIsRefusedBeforeAnyWeightIsRead() throws IOException {
    IllegalArgumentException preset = assertThrows(IllegalArgumentException.class,
        () -> ModelLoad.of(new ModelSpec("tiny", 0, 16, 0, 0, 0, 0.0).withWeights(ModelSpec.LoadFormat.SAFETENSORS,
            ModelSpec.Quantization.NONE, ModelSpec.KvCacheDtype.AUTO)));
    assertEquals("load format safetensors needs a model directory, and 'tiny' is a preset (its weights are dummy"
        + " ones)", preset.getMessage());
    Path dir = TestCheckpoints.export(TestCheckpoints.SMALL, Dtype.BFLOAT16, 1, tmp.resolve("small"));
    TestCheckpoints.editConfig(dir, c -> c.put("vocab_size", 64));
    CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoad.of(spec(dir)));
    assertEquals(dir.resolve("model.safetensors") + ": tensor 'model.embed_tokens.weight': shape [48, 16] but"
        + " config.json gives [64, 16]", e.getMessage());
  }

  static double relativeL2(float[] want, float[] got) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < want.length; i++) {
      double d = (double) want[i] - got[i];
      num += d * d;
      den += (double) want[i] * want[i];
    }
    return Math.sqrt(num / den);
  }
}
