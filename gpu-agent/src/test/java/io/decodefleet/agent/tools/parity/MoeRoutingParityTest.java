package io.decodefleet.agent.tools.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.CheckpointExport;
import io.decodefleet.agent.engine.HostWeights;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.kernels.reference.MoeRouter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router half of a mixture of experts' parity, on CPU backends: a router that reads its inputs
 * up to bf16 rounding passes the first-layer agreement while still sending some tokens to other
 * experts at near ties (why the rest of the layer is compared on the CPU's routing), and a router
 * that chooses other experts fails.
 */
class MoeRoutingParityTest {

  private static final ModelConfig MOE = ModelConfig.preset("tiny-moe");

  @TempDir
  Path tmp;

  @Test
  void bf16RoundedWeightsPassTheFirstLayerAgreementYetMoveSomeTokensToOtherExperts() throws Exception {
    Path dir = tmp.resolve("bf16");
    CheckpointExport.write(new HostWeights(ModelLoad.dummy(MOE, 7)), CheckpointExport.Dtype.BFLOAT16, 1, dir);
    ModelLoad rounded = ModelLoad.of(new ModelSpec(dir.toString(), 0, 16, 0, 0, 0, 0.0).withWeights(
        ModelSpec.LoadFormat.SAFETENSORS, ModelSpec.Quantization.NONE, ModelSpec.KvCacheDtype.AUTO));
    ParitySchedule schedule = new ParitySchedule(MOE.vocabSize(), 7, 4, 32, 16);
    List<MoeRouter.Routing[]> reference = new ArrayList<>();
    List<MoeRouter.Routing[]> other = new ArrayList<>();
    try (CpuBackend cpu = new CpuBackend(0); CpuBackend bf16 = new CpuBackend(0)) {
      cpu.loadModel(ModelLoad.dummy(MOE, 7));
      bf16.loadModel(rounded);
      cpu.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
      bf16.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
      schedule.run(batch -> {
        float[] logits = cpu.forward(batch);
        reference.add(cpu.lastRouting());
        bf16.forward(batch); // teacher forced: the same batches, its own routing
        other.add(bf16.lastRouting());
        int[] tokens = new int[batch.numSampled()];
        for (int i = 0; i < tokens.length; i++) {
          tokens[i] = io.decodefleet.kernels.reference.Argmax.argmax(logits, i * MOE.vocabSize(), MOE.vocabSize());
        }
        return tokens;
      });
    }
    MoeRoutingParity parity = new MoeRoutingParity(reference, null);
    for (int s = 0; s < reference.size(); s++) parity.tally(other.get(s), reference.get(s));
    assertEquals("", parity.failure(), parity.summary());
    assertTrue(parity.summary().matches("router: first layer \\d+ of \\d+ rows as the CPU's, all layers \\d+\\.\\d%"
        + " of row-layers"), parity.summary());
    assertFalse(parity.summary().endsWith("100.0% of row-layers"),
        "bf16 rounding moves some tokens to other experts: " + parity.summary());
  }

  @Test
  void aRouterThatChoosesOtherExpertsFailsInOneLine() {
    MoeRouter.Routing cpu = new MoeRouter.Routing(4, 2, new int[] {0, 1, 2, 3, 4, 5, 6, 7}, new float[8]);
    MoeRouter.Routing shifted = new MoeRouter.Routing(4, 2, new int[] {1, 0, 3, 2, 5, 4, 0, 1}, new float[8]);
    MoeRoutingParity parity = new MoeRoutingParity(List.of(), null);
    parity.tally(new MoeRouter.Routing[] {shifted}, new MoeRouter.Routing[] {cpu});
    assertEquals("router: first layer 3 of 4 rows as the CPU's, all layers 75.0% of row-layers: below 90% in the"
        + " first layer", parity.failure(), "slot order does not matter; another expert does");
  }
}
