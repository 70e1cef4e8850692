package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Decode paths by name and the backend settings' checks. */
class CudaSettingsTest {

  @Test
  void decodePathsParseByLabelAndKnowTheirEagerCounterpart() {
    assertSame(DecodePath.PERSISTENT_GRAPH, DecodePath.parse("persistent+graph"));
    assertSame(DecodePath.GRAPH, DecodePath.parse(" GRAPH "));
    assertSame(DecodePath.PERSISTENT, DecodePath.PERSISTENT_GRAPH.eager());
    assertSame(DecodePath.EAGER, DecodePath.GRAPH.eager());
    assertTrue(DecodePath.PERSISTENT_GRAPH.usesGraphs() && DecodePath.PERSISTENT_GRAPH.persistentAttention());
    assertFalse(DecodePath.PERSISTENT.usesGraphs());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DecodePath.parse("fast"));
    assertEquals("unknown decode path 'fast' (known: eager, graph, persistent, persistent+graph)", e.getMessage());
  }

  @Test
  void defaultsAreThePersistentGraphPathAtNinetyPercentOfMemory() {
    CudaSettings d = CudaSettings.defaults();
    assertSame(DecodePath.PERSISTENT_GRAPH, d.decodePath());
    assertEquals(0.9, d.gpuMemoryFraction());
    assertSame(CudaSettings.AttentionKernels.AUTO, d.attention());
    // Sampled steps replay the graphs unless DECODEFLEET_SAMPLED_GRAPHS says off.
    assertEquals(io.decodefleet.agent.backend.cuda.driver.EnvSetting.notOff(
        System.getenv(CudaSettings.SAMPLED_GRAPHS_ENV)), d.sampledGraphs());
    CudaSettings on = d.withMaxGraphBatch(8).withSampledGraphs(true);
    assertTrue(on.sampledGraphs());
    assertEquals(8, on.maxGraphBatch());
    assertTrue(on.withGemm(io.decodefleet.agent.backend.cuda.gemm.GemmTuner.Policy.OURS).withDecodePath(DecodePath.GRAPH)
        .withAttention(CudaSettings.AttentionKernels.PAGED).withMaxStepTokens(4096).withGpuMemoryFraction(0.5)
        .sampledGraphs(), "every other setting keeps it");
    assertFalse(on.withSampledGraphs(false).sampledGraphs());
  }

  /** The CUDA backend's switches: on only when told on, or on unless told off. */
  @Test
  void envSettingsReadOnAndOffWordsInAnyCase() {
    for (String v : new String[] {"on", "ON", " 1 ", "true", "True"}) {
      assertTrue(io.decodefleet.agent.backend.cuda.driver.EnvSetting.on(v), v);
      assertTrue(io.decodefleet.agent.backend.cuda.driver.EnvSetting.notOff(v), v);
    }
    for (String v : new String[] {"off", " OFF", "0", "false"}) {
      assertFalse(io.decodefleet.agent.backend.cuda.driver.EnvSetting.on(v), v);
      assertFalse(io.decodefleet.agent.backend.cuda.driver.EnvSetting.notOff(v), v);
    }
    assertFalse(io.decodefleet.agent.backend.cuda.driver.EnvSetting.on(null));
    assertTrue(io.decodefleet.agent.backend.cuda.driver.EnvSetting.notOff(null));
    assertFalse(io.decodefleet.agent.backend.cuda.driver.EnvSetting.on("yes"), "an unknown word is not on");
    assertTrue(io.decodefleet.agent.backend.cuda.driver.EnvSetting.notOff("yes"), "nor off");
  }

  @Test
  void badSettingsAreRefusedInOneLineNamingEachProblem() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CudaSettings.defaults().withGpuMemoryFraction(1.5));
    assertEquals("CUDA backend settings: gpu memory fraction must be in (0, 1], got 1.5", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> CudaSettings.defaults().withGpuMemoryFraction(0));
    assertThrows(IllegalArgumentException.class, () -> CudaSettings.defaults().withMaxGraphBatch(0));
  }
}
