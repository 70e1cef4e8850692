package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.ModelSpec.KvCacheDtype;
import io.decodefleet.agent.engine.ModelSpec.Quantization;
import io.decodefleet.agent.protocol.ModelSpecWire;
import org.junit.jupiter.api.Test;

/** fp8-dynamic: what a load of it means, who refuses it, and that it reaches the CPU reference's projections. */
class Fp8DynamicLoadTest {

  private static final ModelConfig TINY = ModelConfig.preset("tiny");

  @Test
  void fp8DynamicHoldsFp8WeightsAndQuantizesActivationsWhereFp8DoesNot() {
    ModelLoad dynamic = ModelLoad.dummy(TINY, 0).with(Quantization.FP8_DYNAMIC, KvCacheDtype.AUTO);
    ModelLoad weightsOnly = ModelLoad.dummy(TINY, 0).with(Quantization.FP8, KvCacheDtype.AUTO);
    assertTrue(dynamic.fp8Weights());
    assertTrue(dynamic.fp8Activations());
    assertTrue(weightsOnly.fp8Weights());
    assertFalse(weightsOnly.fp8Activations());
    assertTrue(dynamic.describe().contains("their activations per token at run time"), dynamic.describe());
  }

  @Test
  void aMixtureOfExpertsIsRefusedNamingTheModelAndTheWayOut() {
    ModelConfig moe = ModelConfig.preset("tiny-moe");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelLoad.dummy(moe, 0).with(Quantization.FP8_DYNAMIC, KvCacheDtype.AUTO));
    assertEquals("quantization fp8-dynamic: model tiny-moe is a mixture of experts, whose experts take bf16"
        + " activations only (use --quantization fp8)", e.getMessage());
  }

  @Test
  void theWireCarriesIt() throws Exception {
    ModelSpec spec = new ModelSpec("tiny", 3, 16, 0, 0, 0, 0.0).withWeights(ModelSpec.LoadFormat.DUMMY,
        Quantization.FP8_DYNAMIC, KvCacheDtype.FP8);
    assertEquals(spec, ModelSpecWire.fromProto(ModelSpecWire.toProto(spec)));
    assertEquals(2, ModelSpecWire.toProto(spec).getQuantization());
  }

  /** The same FP8 weights give other logits once the activations are quantized too, and the same again on a rerun. */
  @Test
  void theCpuReferenceQuantizesActivationsDeterministically() {
    float[] weightsOnly = logits(Quantization.FP8);
    float[] dynamic = logits(Quantization.FP8_DYNAMIC);
    assertNotEquals(java.util.Arrays.hashCode(weightsOnly), java.util.Arrays.hashCode(dynamic));
    assertArrayEquals(dynamic, logits(Quantization.FP8_DYNAMIC));
    double num = 0;
    double den = 0;
    for (int i = 0; i < dynamic.length; i++) {
      num += (dynamic[i] - weightsOnly[i]) * (double) (dynamic[i] - weightsOnly[i]);
      den += weightsOnly[i] * (double) weightsOnly[i];
    }
    double rel = Math.sqrt(num / den);
    assertTrue(rel > 1e-4 && rel < 0.2, "relative L2 between fp8 and fp8-dynamic logits: " + rel);
  }

  private static float[] logits(Quantization q) {
    try (CpuBackend b = new CpuBackend(16L << 20)) {
      b.loadModel(ModelLoad.dummy(TINY, 0).with(q, KvCacheDtype.AUTO));
      b.allocateKvCache(4, 16);
      int n = 5;
      int[] tokens = {1, 7, 42, 99, 5};
      int[] positions = {0, 1, 2, 3, 4};
      int[] slots = {0, 1, 2, 3, 4};
      int[][] tables = new int[n][];
      int[] ctx = new int[n];
      for (int i = 0; i < n; i++) {
        tables[i] = new int[] {0};
        ctx[i] = i + 1;
      }
      return b.forward(new ForwardBatch(tokens, positions, slots, tables, ctx, positions.clone()));
    }
  }
}
