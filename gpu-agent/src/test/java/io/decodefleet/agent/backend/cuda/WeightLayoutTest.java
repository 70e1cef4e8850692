package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.DummyWeights;
import io.decodefleet.agent.engine.DummyWeights.Kind;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.kernels.cuda.DummyWeightsParams;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend's description of its weights (tensor ids, scales, offsets, fused placement)
 * against the weights the CPU backend actually holds, element for element, through the exact
 * arithmetic of the dummy-weight kernel.
 */
class WeightLayoutTest {

  private static final ModelConfig TINY = ModelConfig.preset("tiny");
  private static final long SEED = 0x5eed_1234_abcdL; // wider than 32 bits: the lo/hi split matters

  /** dummy_weights.cu, line for line: hash, 24-bit uniform, float multiply then add. */
  private static float kernelValue(DummyWeightsParams p, long i) {
    long key = join(p.seedLo(), p.seedHi()) ^ (join(p.tensorIdLo(), p.tensorIdHi()) * 0x9e3779b97f4a7c15L);
    long base = join(p.indexBaseLo(), p.indexBaseHi());
    long index = p.cols() == 0 ? base + i : base + (i / p.cols()) * p.rowStride() + i % p.cols();
    long h = DummyWeights.mix(key ^ (index * 0xd1b54a32d192ed03L));
    int bits24 = (int) (h >>> 40);
    float u = (float) (bits24 - (1 << 23)) * (1.f / 8388608.f);
    float product = p.scale() * u;
    return product + p.offset();
  }

  private static long join(int lo, int hi) {
    return ((long) hi << 32) | (lo & 0xffffffffL);
  }

  @Test
  void aTensorParallelRanksTensorsEqualTheCpuRanksElementForElement() throws Exception {
    java.util.List<java.util.function.Supplier<io.decodefleet.agent.engine.Backend>> ranks =
        java.util.List.of(() -> new CpuBackend(1 << 20), () -> new CpuBackend(1 << 20));
    try (io.decodefleet.agent.engine.tp.TensorParallelBackend group = new io.decodefleet.agent.engine.tp
        .TensorParallelBackend("test", ranks, java.time.Duration.ofSeconds(20))) {
      group.loadModel(TINY, SEED);
      CpuBackend rank1 = (CpuBackend) group.rank(1);
      WeightLayout layout = new WeightLayout(TINY, new io.decodefleet.agent.engine.tp.TensorShard(1, 2));
      int windowed = 0;
      for (WeightLayout.Tensor t : layout.tensors()) {
        float[] expected = cpuTensor(rank1, t.kind(), t.layer());
        assertEquals(expected.length, t.elements(), t.kind() + " of layer " + t.layer() + ": element count");
        var w = t.window();
        DummyWeightsParams p = DummyWeightsParams.window(64, (int) t.elements(), SEED, t.tensorId(), w.base(),
            w.cols(), w.rowStride(), t.scale(), t.offset());
        windowed += w.cols() > 0 ? 1 : 0;
        for (int i = 0; i < expected.length; i++) {
          float got = kernelValue(p, i);
          if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(expected[i])) {
            throw new AssertionError("rank 1: " + t.kind() + " of layer " + t.layer() + " element " + i + ": kernel "
                + got + ", CPU rank " + expected[i]);
          }
        }
      }
      assertEquals(2 * TINY.numHiddenLayers(), windowed, "o and down of every layer are column slices");
      assertEquals(TINY.qSize() / 2 * TINY.hiddenSize(), layout.tensors().get(1).elements(), "q rows halved");
    }
  }

  @Test
  void everyTensorTheKernelMakesEqualsTheCpuBackendsElementForElement() throws Exception {
    WeightLayout layout = new WeightLayout(TINY);
    try (CpuBackend cpu = new CpuBackend(1 << 20)) {
      cpu.loadModel(TINY, SEED);
      int checked = 0;
      for (WeightLayout.Tensor t : layout.tensors()) {
        float[] expected = cpuTensor(cpu, t.kind(), t.layer());
        assertEquals(expected.length, t.elements(), t.kind() + " of layer " + t.layer() + ": element count");
        // Filled in two launches, as a tensor past 2^30 elements would be: the index base matters.
        int half = (int) (t.elements() / 2);
        DummyWeightsParams first = DummyWeightsParams.of(64, half, SEED, t.tensorId(), 0, t.scale(), t.offset());
        DummyWeightsParams second = DummyWeightsParams.of(64, (int) t.elements() - half, SEED, t.tensorId(), half,
            t.scale(), t.offset());
        for (int i = 0; i < expected.length; i++) {
          float got = i < half ? kernelValue(first, i) : kernelValue(second, i - half);
          if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(expected[i])) {
            throw new AssertionError(t.kind() + " of layer " + t.layer() + " element " + i + ": kernel " + got
                + ", CPU backend " + expected[i]);
          }
        }
        checked++;
      }
      assertEquals(3 + 9 * TINY.numHiddenLayers(), checked, "embedding, final norm, head and 9 per layer");
    }
  }

  @Test
  void fusedMatricesKeepTheirPartsRowsBackToBackAndEveryTensorStartsAligned() {
    ModelConfig c = ModelConfig.preset("llama3-8b");
    WeightLayout layout = new WeightLayout(c);
    Map<Kind, Long> offsets = new EnumMap<>(Kind.class);
    for (WeightLayout.Tensor t : layout.tensors()) {
      if (t.layer() == 3 || t.layer() == -1) {
        offsets.put(t.kind(), t.byteOffset());
      }
    }
    WeightLayout.LayerWeights l3 = layout.layer(3);
    long h = c.hiddenSize();
    assertEquals(l3.qkv(), offsets.get(Kind.Q_PROJ));
    assertEquals(l3.qkv() + 2 * c.qSize() * h, offsets.get(Kind.K_PROJ), "k rows right after q rows");
    assertEquals(l3.qkv() + 2 * (c.qSize() + c.kvSize()) * h, offsets.get(Kind.V_PROJ), "v rows after k rows");
    assertEquals(l3.gateUp() + 2 * c.intermediateSize() * h, offsets.get(Kind.UP_PROJ), "up rows after gate rows");
    long[] starts = {l3.qkv(), l3.o(), l3.gateUp(), l3.down(), l3.inputNorm(), l3.postAttentionNorm(),
        layout.embedding(), layout.finalNorm(), layout.lmHead()};
    for (long s : starts) {
      assertEquals(0, s % 256, "tensor at " + s + " is not 256-byte aligned");
    }
    long params = c.parameterCount() * 2;
    assertTrue(layout.totalBytes() >= params && layout.totalBytes() < params + 256L * layout.tensors().size(),
        "layout holds " + layout.totalBytes() + " bytes for " + params + " bytes of parameters");
    long embedding = 2L * c.vocabSize() * h;
    assertEquals(layout.totalBytes() - embedding, layout.bytesReadPerStep(), "a step reads all but the embedding");
  }

  /**
   * q/k norms (Qwen3): each layer's q_norm and k_norm, (head_dim) bf16 on a 256-byte boundary at the
   * layer's qNorm and kNorm, equal element for element to the CPU backend's (as is every other
   * tensor); a tensor-parallel rank holds both whole (one weight per head_dim, shared by every head,
   * generated from the same indices); a model without q/k norms places none.
   */
  @Test
  void qkNormWeightsTheKernelMakesEqualTheCpuBackendsAndEveryRankHoldsThemWhole() throws Exception {
    ModelConfig c = ModelConfig.preset("tiny-qwen3");
    WeightLayout layout = new WeightLayout(c);
    WeightLayout rank1 = new WeightLayout(c, new io.decodefleet.agent.engine.tp.TensorShard(1, 2));
    int norms = 0;
    try (CpuBackend cpu = new CpuBackend(1 << 20)) {
      cpu.loadModel(c, SEED);
      for (WeightLayout.Tensor t : layout.tensors()) {
        float[] expected = cpuTensor(cpu, t.kind(), t.layer());
        assertEquals(expected.length, t.elements(), t.kind() + " of layer " + t.layer() + ": element count");
        DummyWeightsParams p = DummyWeightsParams.of(64, (int) t.elements(), SEED, t.tensorId(), 0, t.scale(),
            t.offset());
        for (int i = 0; i < expected.length; i++) {
          float got = kernelValue(p, i);
          if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(expected[i])) {
            throw new AssertionError(t.kind() + " of layer " + t.layer() + " element " + i + ": kernel " + got
                + ", CPU backend " + expected[i]);
          }
        }
        if (t.kind() == Kind.Q_NORM || t.kind() == Kind.K_NORM) {
          WeightLayout.LayerWeights lw = layout.layer(t.layer());
          assertEquals(t.kind() == Kind.Q_NORM ? lw.qNorm() : lw.kNorm(), t.byteOffset(), t.kind() + " of layer "
              + t.layer());
          assertEquals(0, t.byteOffset() % 256);
          assertEquals(c.headDim(), t.elements());
          norms++;
        }
      }
    }
    assertEquals(2 * c.numHiddenLayers(), norms);
    assertEquals(3 + 11 * c.numHiddenLayers(), layout.tensors().size(), "9 tensors and 2 q/k norms per layer");
    for (WeightLayout.Tensor t : rank1.tensors()) {
      if (t.kind() != Kind.Q_NORM && t.kind() != Kind.K_NORM) continue;
      assertEquals(c.headDim(), t.elements(), "rank 1 holds " + t.kind() + " whole");
      assertEquals(0, t.window().base());
      assertEquals(0, t.window().cols());
      assertEquals(DummyWeights.tensorId(t.kind(), t.layer(), -1), t.tensorId());
    }
    assertTrue(rank1.layer(2).qkNorm());
    assertEquals(-1, new WeightLayout(TINY).layer(0).qNorm());
    assertEquals(-1, new WeightLayout(TINY).layer(0).kNorm());
    assertTrue(!new WeightLayout(TINY).layer(0).qkNorm());
  }

  /**
   * Attention biases (Qwen2): each layer's q, k and v biases, bf16 at the layer's qBias, kBias and
   * vBias, equal element for element to the CPU backend's, whole on one device and, on a
   * tensor-parallel rank, the biases of the rank's heads, as the CPU rank holds them; a model
   * without biases places none.
   */
  @Test
  void attentionBiasesTheKernelMakesEqualTheCpuBackendsWholeAndOnARank() throws Exception {
    ModelConfig c = ModelConfig.preset("tiny-qwen2");
    WeightLayout whole = new WeightLayout(c);
    WeightLayout rank1 = new WeightLayout(c, new io.decodefleet.agent.engine.tp.TensorShard(1, 2));
    java.util.List<java.util.function.Supplier<io.decodefleet.agent.engine.Backend>> ranks =
        java.util.List.of(() -> new CpuBackend(1 << 20), () -> new CpuBackend(1 << 20));
    try (CpuBackend cpu = new CpuBackend(1 << 20); io.decodefleet.agent.engine.tp.TensorParallelBackend group =
        new io.decodefleet.agent.engine.tp.TensorParallelBackend("test", ranks, java.time.Duration.ofSeconds(20))) {
      cpu.loadModel(c, SEED);
      group.loadModel(c, SEED);
      int biases = 0;
      for (var pair : java.util.List.of(Map.entry(whole, cpu), Map.entry(rank1, (CpuBackend) group.rank(1)))) {
        for (WeightLayout.Tensor t : pair.getKey().tensors()) {
          if (t.kind() != Kind.Q_BIAS && t.kind() != Kind.K_BIAS && t.kind() != Kind.V_BIAS) continue;
          float[] expected = cpuTensor(pair.getValue(), t.kind(), t.layer());
          assertEquals(expected.length, t.elements(), t.kind() + " of layer " + t.layer() + ": element count");
          var w = t.window();
          DummyWeightsParams p = DummyWeightsParams.window(64, (int) t.elements(), SEED, t.tensorId(), w.base(),
              w.cols(), w.rowStride(), t.scale(), t.offset());
          for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(kernelValue(p, i)),
                t.kind() + " of layer " + t.layer() + " element " + i);
          }
          WeightLayout.LayerWeights lw = pair.getKey().layer(t.layer());
          long at = switch (t.kind()) {
            case Q_BIAS -> lw.qBias();
            case K_BIAS -> lw.kBias();
            default -> lw.vBias();
          };
          assertEquals(at, t.byteOffset(), t.kind() + " of layer " + t.layer());
          biases++;
        }
      }
      assertEquals(2 * 3 * c.numHiddenLayers(), biases);
    }
    assertEquals(c.qSize() / 2, rank1.tensors().stream().filter(t -> t.kind() == Kind.Q_BIAS).findFirst()
        .orElseThrow().elements(), "a rank holds its heads' q bias");
    assertTrue(whole.layer(3).biases());
    assertEquals(-1, new WeightLayout(TINY).layer(0).qBias());
    assertTrue(!new WeightLayout(TINY).layer(0).biases());
  }

  @Test
  void tiedHeadSharesTheEmbeddingAndIsReadEveryStep() {
    WeightLayout layout = new WeightLayout(ModelConfig.preset("llama3-1b"));
    assertEquals(layout.embedding(), layout.lmHead());
    assertEquals(layout.totalBytes(), layout.bytesReadPerStep());
  }

  @Test
  void paramsSplitSixtyFourBitSeedAndIndexIntoHalvesThatJoinBack() {
    DummyWeightsParams p = DummyWeightsParams.of(256, 10, -3L, DummyWeights.tensorId(Kind.UP_PROJ, 79),
        (1L << 33) + 5, 0.25f, 1f);
    assertEquals(-3L, p.seed());
    assertEquals(DummyWeights.tensorId(Kind.UP_PROJ, 79), p.tensorId());
    assertEquals((1L << 33) + 5, p.indexBase());
    assertEquals(56, DummyWeightsParams.LAYOUT.size());
  }

  private static float[] cpuTensor(CpuBackend cpu, Kind kind, int layer) throws Exception {
    switch (kind) {
      case EMBEDDING:
        return field(cpu, "embedding");
      case LM_HEAD:
        return field(cpu, "lmHead");
      case FINAL_NORM:
        return field(cpu, "finalNorm");
      default:
        break;
    }
    Object l = ((Object[]) field(cpu, "layers"))[layer];
    String accessor = switch (kind) {
      case Q_PROJ -> "qProj";
      case K_PROJ -> "kProj";
      case V_PROJ -> "vProj";
      case O_PROJ -> "oProj";
      case GATE_PROJ -> "gateProj";
      case UP_PROJ -> "upProj";
      case DOWN_PROJ -> "downProj";
      case INPUT_NORM -> "inputNorm";
      case POST_ATTENTION_NORM -> "postAttentionNorm";
      case Q_NORM -> "qNorm";
      case K_NORM -> "kNorm";
      case Q_BIAS -> "qBias";
      case K_BIAS -> "kBias";
      case V_BIAS -> "vBias";
      default -> throw new AssertionError(kind);
    };
    Method m = l.getClass().getDeclaredMethod(accessor);
    m.setAccessible(true);
    return (float[]) m.invoke(l);
  }

  /**
   * A mixture of experts: every router and expert tensor the dummy-weight kernel makes equals the
   * CPU backend's, element for element (the expert's bit in the tensor id included), and the experts
   * of a layer sit at a fixed stride, each expert's gate rows then its up rows, as the grouped GEMMs
   * index them; no dense MLP is placed.
   */
  @Test
  void everyExpertTensorTheKernelMakesEqualsTheCpuBackendsAndExpertsSitAtAFixedStride() throws Exception {
    ModelConfig c = ModelConfig.preset("tiny-moe");
    int experts = c.moe().numExperts();
    long h = c.hiddenSize();
    long inter = c.moe().moeIntermediateSize();
    WeightLayout layout = new WeightLayout(c);
    int checked = 0;
    try (CpuBackend cpu = new CpuBackend(1 << 20)) {
      cpu.loadModel(c, SEED);
      for (WeightLayout.Tensor t : layout.tensors()) {
        assertTrue(t.kind() != Kind.GATE_PROJ && t.kind() != Kind.UP_PROJ && t.kind() != Kind.DOWN_PROJ,
            "no dense MLP in a mixture of experts");
        if (t.kind().expertTensor() == null) continue;
        float[] expected = cpuExpertTensor(cpu, t.kind(), t.layer(), t.expert());
        assertEquals(expected.length, t.elements(), t.kind() + " of layer " + t.layer() + " expert " + t.expert());
        DummyWeightsParams p = DummyWeightsParams.of(64, (int) t.elements(), SEED, t.tensorId(), 0, t.scale(),
            t.offset());
        for (int i = 0; i < expected.length; i++) {
          float got = kernelValue(p, i);
          if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(expected[i])) {
            throw new AssertionError(t.kind() + " of layer " + t.layer() + " expert " + t.expert() + " element " + i
                + ": kernel " + got + ", CPU backend " + expected[i]);
          }
        }
        checked++;
      }
    }
    assertEquals(c.numHiddenLayers() * (1 + 3 * experts), checked, "a router and 3 tensors per expert per layer");
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      WeightLayout.LayerWeights lw = layout.layer(l);
      assertEquals(-1, lw.gateUp());
      assertEquals(-1, lw.down());
      assertEquals(0, lw.router() % 256);
      assertEquals(0, lw.expertGateUp() % 256);
      assertEquals(0, lw.expertDown() % 256);
      for (WeightLayout.Tensor t : layout.tensors()) {
        if (t.layer() != l || !t.kind().perExpert()) continue;
        long e = t.expert();
        long want = switch (t.kind()) {
          case EXPERT_GATE -> lw.expertGateUp() + 2 * e * 2 * inter * h;
          case EXPERT_UP -> lw.expertGateUp() + 2 * (2 * e + 1) * inter * h;
          default -> lw.expertDown() + 2 * e * h * inter;
        };
        assertEquals(want, t.byteOffset(), t.kind() + " of layer " + l + " expert " + e);
      }
    }
    long embedding = 2L * c.vocabSize() * h;
    long expertBytes = 2L * c.numHiddenLayers() * experts * 3 * inter * h;
    assertEquals(expertBytes, layout.expertBytes());
    assertEquals(layout.totalBytes() - embedding - expertBytes + expertBytes / experts * c.moe().expertsPerToken(),
        layout.bytesReadPerStep(), "a step reads at least one token's k experts, not all of them");
  }

  @Test
  void aMixtureOfExpertsIsRefusedInOneLineWithFp8ExpertsOrSplitByHeads() {
    ModelConfig c = ModelConfig.preset("tiny-moe");
    for (Runnable r : new Runnable[] {() -> new WeightLayout(c, io.decodefleet.agent.engine.tp.TensorShard.WHOLE,
        true), () -> new WeightLayout(c, new io.decodefleet.agent.engine.tp.TensorShard(0, 2))}) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          r::run);
      assertTrue(e.getMessage().startsWith("the CUDA backend's mixture of experts holds bf16 experts, whole or split"
          + " by expert"),
          e.getMessage());
      assertTrue(!e.getMessage().contains("\n"));
    }
  }

  /** A router (expert -1) or expert tensor of the CPU backend's weights. */
  private static float[] cpuExpertTensor(CpuBackend cpu, Kind kind, int layer, int expert) throws Exception {
    Object l = ((Object[]) field(cpu, "layers"))[layer];
    Method m = l.getClass().getDeclaredMethod("moe");
    m.setAccessible(true);
    Object experts = m.invoke(l);
    String accessor = switch (kind) {
      case ROUTER -> "router";
      case EXPERT_GATE -> "gate";
      case EXPERT_UP -> "up";
      case EXPERT_DOWN -> "down";
      default -> throw new AssertionError(kind);
    };
    Method a = experts.getClass().getDeclaredMethod(accessor);
    a.setAccessible(true);
    Object v = a.invoke(experts);
    return kind == Kind.ROUTER ? (float[]) v : ((float[][]) v)[expert];
  }

  /** A field of the weights the CPU backend holds (its CpuWeights). */
  @SuppressWarnings("unchecked")
  private static <T> T field(CpuBackend cpu, String name) throws Exception {
    Field w = CpuBackend.class.getDeclaredField("weights");
    w.setAccessible(true);
    Object weights = w.get(cpu);
    Field f = weights.getClass().getDeclaredField(name);
    f.setAccessible(true);
    return (T) f.get(weights);
  }
}
