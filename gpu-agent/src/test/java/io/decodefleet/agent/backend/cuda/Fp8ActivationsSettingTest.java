package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class Fp8ActivationsSettingTest {

  @Test
  void unsetOrBlankTimesBothAndTheValuesAreReadInAnyCase() {
    assertEquals("timed", Fp8Activations.setting(null));
    assertEquals("timed", Fp8Activations.setting("  "));
    assertEquals("ours", Fp8Activations.setting(" OURS "));
    assertEquals("cublaslt", Fp8Activations.setting("cuBLASLt"));
    assertEquals("timed", Fp8Activations.setting("timed"));
  }

  @Test
  void anythingElseIsRefusedNamingTheVariableAndTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Fp8Activations.setting("on"));
    assertEquals("DECODEFLEET_GEMM_FP8X8 must be timed, ours or cublaslt (was 'on')", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Fp8Activations.setting("skinny2"));
  }
}
