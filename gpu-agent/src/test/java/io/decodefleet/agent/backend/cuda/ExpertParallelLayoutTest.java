package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.tp.ExpertShard;
import io.decodefleet.agent.engine.tp.TensorShard;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * An expert-parallel rank's weights on a GPU: its experts only, each the very tensor one device
 * holds (same id, so the same dummy values or the same checkpoint tensor), at a fixed stride from
 * the rank's first expert (what the grouped GEMMs index with the offsets read from that expert),
 * and every other tensor whole.
 */
class ExpertParallelLayoutTest {

  private static final ModelConfig MOE = ModelConfig.preset("tiny-moe");

  @Test
  void eachRankHoldsItsExpertsAndTheRanksTogetherHoldEveryExpertOnce() {
    WeightLayout whole = new WeightLayout(MOE);
    Map<String, Long> ids = new HashMap<>();
    for (WeightLayout.Tensor t : whole.tensors()) ids.put(key(t), t.tensorId());
    int experts = MOE.moe().numExperts();
    for (int k : new int[] {2, 4, 8}) {
      Set<String> seen = new HashSet<>();
      for (int r = 0; r < k; r++) {
        WeightLayout rank = new WeightLayout(MOE, TensorShard.WHOLE, false, new ExpertShard(r, k));
        assertEquals(r * experts / k, rank.firstExpert());
        assertEquals((r + 1) * experts / k, rank.endExpert());
        assertEquals(whole.expertBytes() / k, rank.expertBytes(), "1/K of the experts' bytes, K=" + k);
        assertEquals(whole.totalBytes() - whole.expertBytes() + whole.expertBytes() / k, rank.totalBytes(),
            "everything but the experts whole (the layout packs experts without gaps)");
        for (WeightLayout.Tensor t : rank.tensors()) {
          assertEquals(ids.get(key(t)), t.tensorId(), key(t) + " is one device's tensor, same id");
          if (!t.kind().perExpert()) continue;
          assertTrue(t.expert() >= rank.firstExpert() && t.expert() < rank.endExpert(), key(t) + " on rank " + r);
          assertTrue(seen.add(key(t)), key(t) + " held by two ranks");
        }
        checkStrides(rank);
      }
      assertEquals(3 * experts * MOE.numHiddenLayers(), seen.size(), "every expert tensor on exactly one rank, K=" + k);
    }
  }

  @Test
  void aRanksNonExpertTensorsAreOneDevicesInTheSameOrder() {
    List<String> whole = nonExpert(new WeightLayout(MOE));
    assertEquals(whole, nonExpert(new WeightLayout(MOE, TensorShard.WHOLE, false, new ExpertShard(1, 2))));
  }

  /**
   * A step's floor on a rank: everything but the experts, and of a token's k experts the share of
   * the busiest rank when they spread evenly, ceil(k / K) (k = 2 here: one expert a layer for K = 2
   * and for K = 8).
   */
  @Test
  void aStepReadsTheBusiestRanksShareOfOneTokensExperts() {
    WeightLayout whole = new WeightLayout(MOE);
    long perExpert = whole.expertBytes() / MOE.moe().numExperts();
    long rest = whole.bytesReadPerStep() - 2 * perExpert;
    for (int k : new int[] {2, 8}) {
      WeightLayout rank = new WeightLayout(MOE, TensorShard.WHOLE, false, new ExpertShard(k - 1, k));
      assertEquals(rest + perExpert, rank.bytesReadPerStep(), "K=" + k);
    }
  }

  /**
   * With a step's routing known, the floor counts each (layer, expert) that took a token, once however
   * many tokens it took, and on a rank only the experts it holds.
   */
  @Test
  void aRoutedStepReadsEachExpertThatTookATokenOnce() {
    WeightLayout whole = new WeightLayout(MOE);
    int layers = MOE.numHiddenLayers();
    int experts = MOE.moe().numExperts();
    long perExpert = whole.expertBytes() / ((long) layers * experts);
    long dense = whole.totalBytes() - 2L * MOE.vocabSize() * MOE.hiddenSize() - whole.expertBytes();
    io.decodefleet.agent.engine.ExpertLoad load = io.decodefleet.agent.engine.ExpertLoad.empty(layers, experts);
    assertEquals(dense, whole.bytesReadPerStep(load), "no token routed: the dense part alone");
    load.tokens()[0] = 5; // layer 0, expert 0: five tokens, read once
    load.tokens()[experts - 1] = 1; // layer 0, the last expert
    load.tokens()[(layers - 1) * experts + 1] = 2; // last layer, expert 1
    assertEquals(dense + 3 * perExpert, whole.bytesReadPerStep(load));
    assertEquals(whole.bytesReadPerStep(), whole.bytesReadPerStep(null), "no routing known: one token's k");
    WeightLayout upper = new WeightLayout(MOE, TensorShard.WHOLE, false, new ExpertShard(1, 2));
    assertEquals(dense + perExpert, upper.bytesReadPerStep(load), "rank 1 of 2 holds only the last expert of those");
  }

  @Test
  void splittingTheExpertsAndTheHeadsAtOnceOrUnevenlyIsRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> new WeightLayout(MOE, new TensorShard(0, 2), false, new ExpertShard(0, 2)));
    IllegalArgumentException uneven = assertThrows(IllegalArgumentException.class,
        () -> new WeightLayout(MOE, TensorShard.WHOLE, false, new ExpertShard(0, 3)));
    assertTrue(uneven.getMessage().contains("num_experts 8 is not a multiple of 3"), uneven.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new WeightLayout(ModelConfig.preset("tiny"), TensorShard.WHOLE, false, new ExpertShard(0, 2)));
  }

  /**
   * A MoE layer's collectives at R launched rows: rank 0's R x k routing (int32 experts and
   * float32 weights) to each other rank, and the (R, hidden) float32 all-reduce; Mixtral at 32 rows
   * moves 512 B and 512 KiB.
   */
  @Test
  void aLayersCollectivesMoveTheRoutingAndOneFloat32RowPerLaunchedRow() {
    MoeLayerKernels.GroupTraffic tiny = MoeLayerKernels.GroupTraffic.of(MOE, 8);
    assertEquals(16, tiny.routingWords());
    assertEquals(8 * 128, tiny.summedFloats());
    MoeLayerKernels.GroupTraffic mixtral = MoeLayerKernels.GroupTraffic.of(ModelConfig.preset("mixtral-8x7b"), 32);
    assertEquals(512, mixtral.routingBytesPerPeer());
    assertEquals(512 << 10, mixtral.summedBytes());
  }

  /** Expert e of the rank at (e - first) strides from the layer's expertGateUp and expertDown. */
  private static void checkStrides(WeightLayout layout) {
    long h = MOE.hiddenSize();
    long inter = MOE.moe().moeIntermediateSize();
    for (WeightLayout.Tensor t : layout.tensors()) {
      if (!t.kind().perExpert()) continue;
      WeightLayout.LayerWeights lw = layout.layer(t.layer());
      long i = t.expert() - layout.firstExpert();
      long want = switch (t.kind()) {
        case EXPERT_GATE -> lw.expertGateUp() + 2 * i * 2 * inter * h;
        case EXPERT_UP -> lw.expertGateUp() + 2 * (2 * i + 1) * inter * h;
        default -> lw.expertDown() + 2 * i * h * inter;
      };
      assertEquals(want, t.byteOffset(), key(t));
    }
  }

  private static List<String> nonExpert(WeightLayout layout) {
    List<String> out = new ArrayList<>();
    for (WeightLayout.Tensor t : layout.tensors()) {
      if (!t.kind().perExpert()) out.add(key(t) + " " + t.elements() + " " + t.tensorId());
    }
    return out;
  }

  private static String key(WeightLayout.Tensor t) {
    return t.kind() + " layer " + t.layer() + " expert " + t.expert();
  }
}
