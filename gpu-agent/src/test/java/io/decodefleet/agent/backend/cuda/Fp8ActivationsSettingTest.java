package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.decodefleet.kernels.cuda.Skinny2GemmFp8Params;
import io.decodefleet.kernels.cuda.Skinny2GemmPlan;
import java.util.List;
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

  @Test
  void oursIsTimedAtThePlannersSplitCountAndAtFewerOnly() {
    Skinny2GemmPlan qkv = Skinny2GemmFp8Params.planCodes(64, 6144, 4096, 132);
    List<Skinny2GemmPlan> c = Fp8Activations.splitCandidates(qkv, 132);
    assertEquals(List.of(4, 1, 2), c.stream().map(Skinny2GemmPlan::splits).toList());
    assertEquals(96, c.get(1).ctas(), "unsplit: one 64-row tile a CTA");
    for (Skinny2GemmPlan p : c) {
      assertEquals(true, p.workspaceFloats() <= qkv.workspaceFloats(), "the scratch sized for the planner's fits");
    }
    Skinny2GemmPlan o = Skinny2GemmFp8Params.planCodes(8, 4096, 4096, 132);
    assertEquals(List.of(2, 1), Fp8Activations.splitCandidates(o, 132).stream().map(Skinny2GemmPlan::splits).toList());
    Skinny2GemmPlan unsplit = o.withSplits(1, 132);
    assertEquals(List.of(unsplit), Fp8Activations.splitCandidates(unsplit, 132));
  }
}
