package io.decodefleet.agent.backend.cuda.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.driver.TensorMaps;
import org.junit.jupiter.api.Test;

/** Where the dispatch may use our wgmma GEMM: the device, the tensor-map shim and the setting. */
class WgmmaGemmsTest {

  private static GpuInfo gpu(String name, int major, int minor) {
    return new GpuInfo(0, name, major, minor, 132, 141L << 30, 60 << 20, 232448, 3_201_000, 6144);
  }

  @Test
  void offSm90TheCauseNamesTheDeviceAndItsArchitecture() {
    String cause = WgmmaGemms.unavailabilityCause(gpu("NVIDIA B200", 10, 0));
    assertEquals("ours:wgmma is sm_90a code only; GPU 0 (NVIDIA B200) is sm_100", cause);
    assertFalse(WgmmaGemms.unavailabilityCause(gpu("NVIDIA RTX PRO 6000", 12, 0)).isEmpty());
  }

  @Test
  void onSm90OnlyTheTensorMapShimCanStandInTheWay() {
    assertEquals(TensorMaps.unavailabilityCause(), WgmmaGemms.unavailabilityCause(gpu("NVIDIA H200", 9, 0)));
  }

  @Test
  void onlySixteenByteAlignedOperandsCanBeDescribedByATensorMap() {
    assertTrue(WgmmaGemms.aligned(0x7f00_0000_0100L, 0x7f00_0000_0010L));
    assertFalse(WgmmaGemms.aligned(0x7f00_0000_0108L, 0x7f00_0000_0000L));
    assertFalse(WgmmaGemms.aligned(0x7f00_0000_0000L, 0x7f00_0000_0002L));
  }

  @Test
  void theSettingIsOnUnlessSaidOff() {
    assertTrue(WgmmaGemms.settingNotOff(null));
    assertTrue(WgmmaGemms.settingNotOff(""));
    assertTrue(WgmmaGemms.settingNotOff("on"));
    assertTrue(WgmmaGemms.settingNotOff("yes please"));
    assertFalse(WgmmaGemms.settingNotOff("off"));
    assertFalse(WgmmaGemms.settingNotOff(" OFF "));
    assertFalse(WgmmaGemms.settingNotOff("0"));
    assertFalse(WgmmaGemms.settingNotOff("false"));
  }
}
