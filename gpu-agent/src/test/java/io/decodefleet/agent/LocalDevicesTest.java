package io.decodefleet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.CudaSettings;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which backend agents get, from --devices (daemon) and --backend (embedded cluster). */
class LocalDevicesTest {

  private static final CudaDevices.Discovery NONE =
      new CudaDevices.Discovery(List.of(), "the CUDA driver reports no device");

  @Test
  void deviceIndicesAreCheckedOneByOne() {
    assertEquals(List.of(1, 0), LocalDevices.parseIndices("1, 0", 2));
    assertEquals("--devices: GPU 2 is not a CUDA device here (0..1)",
        assertThrows(IllegalArgumentException.class, () -> LocalDevices.parseIndices("0,2", 2)).getMessage());
    assertEquals("--devices lists GPU 0 twice",
        assertThrows(IllegalArgumentException.class, () -> LocalDevices.parseIndices("0,0", 2)).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> LocalDevices.parseIndices("gpu0", 2))
        .getMessage().startsWith("--devices: 'gpu0' is not a GPU index"));
  }

  @Test
  void withoutAGpuAutoFallsBackToCpuAgentsAndSaysWhy() {
    LocalDevices.Choice daemon = LocalDevices.forDaemon("auto", NONE);
    assertFalse(daemon.cuda());
    assertEquals("no CUDA device: the CUDA driver reports no device", daemon.reason());
    assertEquals("no CUDA device: the CUDA driver reports no device: using the CPU backend", daemon.describe());
    assertEquals("--devices cpu: using the CPU backend", LocalDevices.forDaemon("cpu", NONE).describe());
    LocalDevices.Choice embedded = LocalDevices.forEmbedded("auto", 4, NONE);
    assertEquals("cpu", embedded.backend());
    NodeGuardian.DeviceSlot slot = embedded.slot("agent-2", 2, CudaSettings.defaults(), 1 << 20);
    assertEquals("cpu", slot.backend());
    assertEquals("agent-2", slot.id());
  }

  @Test
  void askingForCudaWithoutAGpuIsAnErrorNamingTheCause() {
    assertEquals("--backend cuda: no CUDA device: the CUDA driver reports no device",
        assertThrows(IllegalArgumentException.class, () -> LocalDevices.forEmbedded("cuda", 1, NONE)).getMessage());
    assertEquals("--devices 0,1: no CUDA device: the CUDA driver reports no device",
        assertThrows(IllegalArgumentException.class, () -> LocalDevices.forDaemon("0,1", NONE)).getMessage());
    assertEquals("cpu", LocalDevices.forDaemon("cpu", NONE).backend());
    assertThrows(IllegalArgumentException.class, () -> LocalDevices.forEmbedded("tpu", 1, NONE));
  }
}
