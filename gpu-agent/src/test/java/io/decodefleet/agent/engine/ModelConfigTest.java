package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ModelConfigTest {

  @Test
  void presetLookupIsCaseInsensitiveAndListsKnownNamesOnFailure() {
    assertSame(ModelConfig.preset("tiny"), ModelConfig.preset("TINY"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.preset("gpt-5"));
    assertTrue(e.getMessage().contains("tiny") && e.getMessage().contains("llama3-8b"), e.getMessage());
    assertTrue(ModelConfig.presetNames().contains("tiny"));
  }

  @Test
  void tinyPresetDerivedSizes() {
    ModelConfig t = ModelConfig.preset("tiny");
    assertEquals(4 * 32, t.qSize());
    assertEquals(2 * 32, t.kvSize());
    assertEquals(2L * 4 * 64 * 4, t.kvBytesPerToken(4));
    long perLayer = 128L * (128 + 2 * 64) + 128L * 128 + 3L * 128 * 384 + 2 * 128;
    assertEquals(2L * 1024 * 128 + 4 * perLayer + 128, t.parameterCount());
  }

  @Test
  void llama3_8bHasAbout8BillionParameters() {
    long p = ModelConfig.preset("llama3-8b").parameterCount();
    assertTrue(p > 7_900_000_000L && p < 8_100_000_000L, "parameters " + p);
  }

  @Test
  void invalidShapesAreRejected() {
    assertThrows(IllegalArgumentException.class,
        () -> new ModelConfig("x", 128, 384, 4, 3, 4, 1024, 1e4, 1e-5f, 32, 2048, false)); // 3 does not divide 4
    assertThrows(IllegalArgumentException.class,
        () -> new ModelConfig("x", 128, 384, 4, 2, 4, 1024, 1e4, 1e-5f, 31, 2048, false)); // odd head dim
    assertThrows(IllegalArgumentException.class,
        () -> new ModelConfig("x", 0, 384, 4, 2, 4, 1024, 1e4, 1e-5f, 32, 2048, false));
  }

  @Test
  void moePresetsHaveTheirModelsTotalAndActiveParameters() {
    ModelConfig mixtral = ModelConfig.preset("mixtral-8x7b");
    assertEquals(8, mixtral.moe().numExperts());
    assertEquals(2, mixtral.moe().expertsPerToken());
    long total = mixtral.parameterCount();
    long active = mixtral.activeParameterCount();
    // Mistral AI gives 46.7B total and 12.9B active.
    assertTrue(total > 46_600_000_000L && total < 46_800_000_000L, "total " + total);
    assertTrue(active > 12_800_000_000L && active < 13_000_000_000L, "active " + active);
    ModelConfig qwen = ModelConfig.preset("qwen3-30b-a3b");
    assertTrue(qwen.qkNorm() && qwen.moe().normTopkProb());
    // Qwen gives 30.5B total and 3.3B active.
    assertTrue(qwen.parameterCount() > 30_400_000_000L && qwen.parameterCount() < 30_600_000_000L);
    assertTrue(qwen.activeParameterCount() > 3_200_000_000L && qwen.activeParameterCount() < 3_400_000_000L);
    assertEquals(ModelConfig.preset("tiny").parameterCount(), ModelConfig.preset("tiny").activeParameterCount());
  }

  /** The CUDA backend's q/k-norm parity models: Qwen3's attention in small, dense and with tiny-moe's experts. */
  @Test
  void theTinyQwen3PresetsHaveQwen3sAttentionInSmall() {
    for (String name : new String[] {"tiny-qwen3", "tiny-qwen3-moe"}) {
      ModelConfig c = ModelConfig.preset(name);
      assertTrue(c.qkNorm(), name);
      assertEquals(4 * c.hiddenSize(), c.qSize(), name + ": the query width apart from hidden, as in Qwen3");
      assertEquals(4, c.numAttentionHeads() / c.numKeyValueHeads(), name);
      assertEquals(1e-6f, c.rmsNormEps(), name);
    }
    assertTrue(!ModelConfig.preset("tiny-qwen3").isMoe());
    assertEquals(ModelConfig.preset("tiny-moe").moe(), ModelConfig.preset("tiny-qwen3-moe").moe());
  }

  /** The CUDA backend's bias parity model: tiny with Qwen2's q/k/v biases and nothing else changed. */
  @Test
  void theTinyQwen2PresetIsTinyWithAttentionBiases() {
    ModelConfig c = ModelConfig.preset("tiny-qwen2");
    ModelConfig tiny = ModelConfig.preset("tiny");
    assertTrue(c.attentionBias());
    assertTrue(!c.qkNorm() && !c.isMoe());
    assertEquals(tiny.qSize(), c.qSize());
    assertEquals(tiny.parameterCount() + (long) tiny.numHiddenLayers() * (tiny.qSize() + 2L * tiny.kvSize()),
        c.parameterCount(), "q, k and v biases per layer");
  }

  /** Llama 3.1's rope_scaling rides along with a tensor-parallel rank's shard and sets the frequencies. */
  @Test
  void aRanksShardKeepsTheRopeScalingAndPlainRopeHasNone() {
    io.decodefleet.agent.engine.checkpoint.RopeScaling llama31 =
        new io.decodefleet.agent.engine.checkpoint.RopeScaling(8.0, 1.0, 4.0, 8192);
    ModelConfig c = new ModelConfig("llama31-like", 512, 1024, 8, 2, 2, 4096, 500000.0, 1e-5f, 64, 131072, false,
        false, false, null, llama31);
    ModelConfig rank = new io.decodefleet.agent.engine.tp.TensorShard(1, 2).of(c);
    assertEquals(llama31, rank.ropeScaling());
    assertArrayEquals(c.ropeFrequencies(), rank.ropeFrequencies(), 0.0);
    assertArrayEquals(io.decodefleet.kernels.reference.Rope.frequencies(128, 500000.0),
        ModelConfig.preset("llama3-8b").ropeFrequencies(), 0.0);
    assertEquals(null, ModelConfig.preset("llama3-8b").ropeScaling());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> new io.decodefleet.agent.engine.checkpoint.RopeScaling(0.5, 1.0, 4.0, 8192));
    assertEquals("rope_scaling: factor must be finite and >= 1", bad.getMessage());
  }

  @Test
  void moeShapesOutsideTheirRangesAreRejectedWithTheField() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MoeConfig(8, 9, 64, true));
    assertEquals("num_experts_per_tok must be in 1..num_experts, got 9", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new MoeConfig(1, 1, 64, true));
    assertThrows(IllegalArgumentException.class, () -> new MoeConfig(8, 2, 0, true));
  }
}
