package io.decodefleet.agent.backend.cuda.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.ModelSpec;
import org.junit.jupiter.api.Test;

/** The CUDA KV pool's sizes and scales, bf16 against FP8, without a GPU. */
class KvPoolTest {

  @Test
  void anFp8PoolHoldsTwiceTheBlocksOfABf16OneInTheSameBytes() {
    ModelConfig c = ModelConfig.preset("llama3-8b");
    long bf16 = KvPool.bytesPerBlock(c, 16);
    long fp8 = KvPool.bytesPerBlock(c, 16, true);
    // 32 layers x (K + V) x 8 kv heads x 128 dims x 16 tokens x 2 bytes.
    assertEquals(32L * 2 * 8 * 128 * 16 * 2, bf16);
    assertEquals(bf16, 2 * fp8);
    long budget = 40L << 30;
    assertEquals(2 * (budget / bf16), budget / fp8);
    assertEquals(bf16, KvPool.bytesPerBlock(c, 16, false));
  }

  @Test
  void theScalesAreOnePerLayerFiniteAndPositive() {
    ModelConfig c = ModelConfig.preset("tiny");
    int layers = c.numHiddenLayers();
    float[] ones = new float[layers];
    java.util.Arrays.fill(ones, 1f);
    KvPool.checkScales(c, ones, ones.clone());
    IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
        () -> KvPool.checkScales(c, new float[layers + 1], ones));
    assertEquals("an FP8 KV pool needs one K and one V scale per layer (" + layers + ")", count.getMessage());
    float[] bad = ones.clone();
    bad[layers - 1] = Float.POSITIVE_INFINITY;
    IllegalArgumentException inf = assertThrows(IllegalArgumentException.class, () -> KvPool.checkScales(c, ones, bad));
    assertTrue(inf.getMessage().startsWith("layer " + (layers - 1) + "'s KV scales"), inf.getMessage());
    assertThrows(IllegalArgumentException.class, () -> KvPool.checkScales(c, ones, null));
  }

  @Test
  void aDummyLoadWithAnFp8CacheHasScaleOneEverywhereAndABf16LoadNone() {
    ModelConfig c = ModelConfig.preset("tiny");
    Fp8KvScales none = Fp8KvScales.of(ModelLoad.dummy(c, 0));
    assertFalse(none.fp8());
    assertNull(none.k());
    Fp8KvScales fp8 = Fp8KvScales.of(ModelLoad.dummy(c, 0).with(ModelSpec.Quantization.NONE,
        ModelSpec.KvCacheDtype.FP8));
    assertTrue(fp8.fp8());
    float[] ones = new float[c.numHiddenLayers()];
    java.util.Arrays.fill(ones, 1f);
    assertArrayEquals(ones, fp8.k());
    assertArrayEquals(ones, fp8.v());
  }

  @Test
  void anFp8SequenceTransfersHalfTheBytesThroughTheSamePackAndNcclCalls() {
    ModelConfig c = ModelConfig.preset("llama3-8b");
    int bf16 = KvPool.pageElems(c, 16, false);
    int fp8 = KvPool.pageElems(c, 16, true);
    assertEquals(16 * 8 * 128, bf16);
    assertEquals(bf16 / 2, fp8);
    int[] table = {7, 3, 11, 0, 5};
    long bf16Bytes = KvTransferPlan.of(c.numHiddenLayers(), 64, table, bf16).bytes();
    long fp8Bytes = KvTransferPlan.of(c.numHiddenLayers(), 64, table, fp8).bytes();
    // 5 pages x 32 layers x (K + V) x 16 tokens x 8 heads x 128 dims, at 2 bytes and at 1.
    assertEquals(5L * 32 * 2 * 16 * 8 * 128 * 2, bf16Bytes);
    assertEquals(bf16Bytes / 2, fp8Bytes);
  }
}
