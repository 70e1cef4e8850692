package io.decodefleet.agent.engine;

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
}
