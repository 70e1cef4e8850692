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
