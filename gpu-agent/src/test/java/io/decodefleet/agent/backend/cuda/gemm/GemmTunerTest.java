package io.decodefleet.agent.backend.cuda.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cuda.gemm.GemmTuner.Policy;
import java.util.List;
import org.junit.jupiter.api.Test;

class GemmTunerTest {

  private static List<String> labels(List<GemmChoice> choices) {
    return choices.stream().map(GemmChoice::label).toList();
  }

  @Test
  void candidatesFollowThePolicyAndTheRowCount() {
    assertEquals(List.of("ours:skinny", "cublaslt#0", "cublaslt#1", "cublaslt#2", "cublaslt#3"),
        labels(GemmTuner.candidates(1, 8, Policy.AUTO)), "the second skinny GEMM is opt-in");
    assertEquals(List.of("ours:skinny", "ours:tensor-core", "cublaslt#0"), labels(GemmTuner.candidates(64, 1, Policy.AUTO)));
    assertEquals(List.of("ours:tensor-core"), labels(GemmTuner.candidates(512, 0, Policy.AUTO)), "no cuBLASLt here");
    assertEquals(List.of("ours:skinny", "ours:tensor-core"), labels(GemmTuner.candidates(256, 8, Policy.OURS)));
    assertEquals(List.of("cublaslt#0"), labels(GemmTuner.candidates(8, 8, Policy.CUBLASLT)));
    assertEquals(List.of("ours:skinny"), labels(GemmTuner.candidates(8, 0, Policy.CUBLASLT)), "none offered: ours");
  }

  @Test
  void theSecondSkinnyGemmIsACandidateUpTo16RowsWhereEnabledAndItsPolicyPinsIt() {
    assertEquals(List.of("ours:skinny", "ours:skinny2", "ours:tensor-core", "cublaslt#0"),
        labels(GemmTuner.candidates(16, 1, Policy.AUTO, false, true)));
    assertEquals(List.of("ours:skinny", "ours:tensor-core", "cublaslt#0"),
        labels(GemmTuner.candidates(16, 1, Policy.AUTO, false, false)), "not enabled");
    assertEquals(List.of("ours:skinny", "ours:tensor-core", "cublaslt#0"),
        labels(GemmTuner.candidates(17, 1, Policy.AUTO, false, true)), "past its 16 rows");
    assertEquals(List.of("ours:skinny", "ours:skinny2"), labels(GemmTuner.candidates(8, 4, Policy.OURS, false, true)));
    assertEquals(List.of("ours:skinny2"), labels(GemmTuner.candidates(1, 4, Policy.SKINNY2)), "pinned: not timed");
    assertEquals(List.of("ours:skinny2"), labels(GemmTuner.candidates(16, 0, Policy.SKINNY2)));
    assertEquals(List.of("ours:skinny", "ours:tensor-core"), labels(GemmTuner.candidates(17, 4, Policy.SKINNY2)),
        "past its rows: ours, never cuBLASLt");
    assertEquals(Policy.SKINNY2, Policy.parse("skinny2"));
    assertEquals("skinny2", Policy.SKINNY2.label());
    assertTrue(Policy.AUTO.usesCublasLt() && Policy.CUBLASLT.usesCublasLt());
    assertFalse(Policy.OURS.usesCublasLt() || Policy.SKINNY2.usesCublasLt());
    assertEquals(GemmChoice.Kernel.SKINNY2, GemmChoice.parse("ours:skinny2", 9.5).kernel());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Policy.parse("skinny3"));
    assertEquals("--gemm must be auto, ours, cublaslt or skinny2 (was 'skinny3')", e.getMessage());
  }

  @Test
  void fp8DecodeProjectionsTimeOurTwoFp8GemmsUnderEveryPolicy() {
    for (Policy p : List.of(Policy.AUTO, Policy.OURS, Policy.CUBLASLT)) {
      assertEquals(List.of("ours:skinny-fp8", "ours:skinny2-fp8"), labels(GemmTuner.fp8Candidates(p, true)), p.label());
      assertEquals(List.of("ours:skinny-fp8"), labels(GemmTuner.fp8Candidates(p, false)), "not enabled: " + p.label());
    }
    assertEquals(List.of("ours:skinny2-fp8"), labels(GemmTuner.fp8Candidates(Policy.SKINNY2, true)), "pinned");
    assertEquals(List.of("ours:skinny-fp8"), labels(GemmTuner.fp8Candidates(Policy.SKINNY2, false)),
        "pinned where it cannot run: the first");
  }

  @Test
  void theWgmmaFp8GemmIsAnFp8CandidateFromItsRowsWhereItMayRunAndNeverUnderThePin() {
    for (Policy p : List.of(Policy.AUTO, Policy.OURS, Policy.CUBLASLT)) {
      assertEquals(List.of("ours:skinny-fp8", "ours:skinny2-fp8", "ours:wgmma-fp8"),
          labels(GemmTuner.fp8Candidates(p, true, true, GemmTuner.WGMMA_MIN_ROWS)), p.label());
      assertEquals(List.of("ours:skinny-fp8", "ours:wgmma-fp8"), labels(GemmTuner.fp8Candidates(p, false, true, 256)));
      assertEquals(List.of("ours:skinny-fp8"), labels(GemmTuner.fp8Candidates(p, false, true,
          GemmTuner.WGMMA_MIN_ROWS - 1)), "below its rows: its 128-row tiles mostly zeros");
      assertEquals(List.of("ours:skinny-fp8"), labels(GemmTuner.fp8Candidates(p, false, false, 256)), "not on here");
    }
    assertEquals(List.of("ours:skinny2-fp8"), labels(GemmTuner.fp8Candidates(Policy.SKINNY2, true, true, 256)));
    assertTrue(GemmChoice.Kernel.WGMMA_FP8.fp8() && GemmChoice.Kernel.WGMMA_FP8.ours());
    assertEquals(GemmChoice.Kernel.WGMMA_FP8, GemmChoice.parse("ours:wgmma-fp8", 3.0).kernel(), "cached choices read back");
  }

  @Test
  void theWgmmaGemmIsACandidateFrom64RowsOnlyWhereItIsEnabled() {
    assertEquals(List.of("ours:skinny", "ours:tensor-core", "cublaslt#0"),
        labels(GemmTuner.candidates(63, 1, Policy.AUTO, true, false)), "below 64 rows: not a candidate");
    assertEquals(List.of("ours:skinny", "ours:tensor-core", "ours:wgmma", "cublaslt#0"),
        labels(GemmTuner.candidates(64, 1, Policy.AUTO, true, false)));
    assertEquals(List.of("ours:tensor-core", "ours:wgmma"), labels(GemmTuner.candidates(8192, 8, Policy.OURS, true, false)));
    assertEquals(List.of("ours:tensor-core"), labels(GemmTuner.candidates(8192, 8, Policy.OURS, false, false)),
        "not enabled, or not sm_90: the tensor-core GEMM alone");
    assertEquals(List.of("cublaslt#0"), labels(GemmTuner.candidates(512, 8, Policy.CUBLASLT, true, false)));
    assertEquals(GemmChoice.Kernel.WGMMA, GemmChoice.parse("ours:wgmma", 2.5).kernel());
    assertTrue(GemmChoice.Kernel.WGMMA.ours());
  }

  @Test
  void theFastestCandidateWinsWithItsTimeAndTiesGoToOurs() {
    GemmShape s = new GemmShape(64, 6144, 4096, 6144, false);
    List<GemmChoice> c = GemmTuner.candidates(64, 3, Policy.AUTO);
    GemmChoice best = GemmTuner.fastest(s, c, (shape, k) -> switch (k.label()) {
      case "ours:skinny" -> 35.0;
      case "ours:tensor-core" -> 22.0;
      case "cublaslt#1" -> 16.1;
      default -> 18.0;
    });
    assertEquals("cublaslt#1", best.label());
    assertEquals(16.1, best.micros());
    assertEquals("ours:skinny", GemmTuner.fastest(s, c, (shape, k) -> 10.0).label());
  }

  @Test
  void aSingleCandidateIsNotTimedAndABadTimingIsAnError() {
    GemmShape s = new GemmShape(1, 4096, 4096, 4096, false);
    GemmChoice only = GemmTuner.fastest(s, GemmTuner.candidates(1, 0, Policy.SKINNY2), (shape, k) -> {
      throw new AssertionError("timed a lone candidate");
    });
    assertTrue(Double.isNaN(only.micros()));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> GemmTuner.fastest(s, GemmTuner.candidates(1, 2, Policy.AUTO), (shape, k) -> Double.NaN));
    assertTrue(e.getMessage().contains("gave NaN"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Policy.parse("fast"));
    assertEquals(Policy.CUBLASLT, Policy.parse("cuBLASLt"));
  }

  @Test
  void theSecondSkinnyGemmIsACandidateUnlessItsSettingIsOff() {
    assertTrue(GemmTuner.skinny2InDispatch((String) null), "unset: on");
    assertTrue(GemmTuner.skinny2InDispatch("on"));
    assertTrue(GemmTuner.skinny2InDispatch(""));
    for (String off : new String[] {"off", " OFF ", "0", "false", "False"}) {
      assertFalse(GemmTuner.skinny2InDispatch(off), off);
    }
  }

  @Test
  void theFp8SecondSkinnyGemmRunsOnlyWhenSaidOn() {
    assertFalse(GemmTuner.skinny2Fp8InDispatch((String) null), "unset: off until its self-test passed on a GPU");
    assertFalse(GemmTuner.skinny2Fp8InDispatch("off"));
    assertFalse(GemmTuner.skinny2Fp8InDispatch("yes"));
    assertTrue(GemmTuner.skinny2Fp8InDispatch(" ON "));
    assertTrue(GemmTuner.skinny2Fp8InDispatch("1"));
  }

  @Test
  void theFp8GemvIsACandidateAtOneRowOnlyWhereItMayRun() {
    assertEquals(List.of("ours:gemv-fp8", "ours:skinny-fp8"),
        labels(GemmTuner.fp8Candidates(Policy.AUTO, false, false, true, false, 1)));
    assertEquals(List.of("ours:skinny-fp8"), labels(GemmTuner.fp8Candidates(Policy.AUTO, false, false, true, false, 8)),
        "one row only");
    assertEquals(List.of("ours:skinny-fp8"), labels(GemmTuner.fp8Candidates(Policy.AUTO, false, false, false, false, 1)),
        "setting off, or a depth or operands it cannot take");
    assertEquals(List.of("ours:skinny2-fp8"), labels(GemmTuner.fp8Candidates(Policy.SKINNY2, true, false, true, false, 1)),
        "--gemm skinny2 pins the second skinny GEMM");
    assertEquals(List.of("ours:gemv-fp8", "ours:gemv-fp8-mma", "ours:skinny-fp8"),
        labels(GemmTuner.fp8Candidates(Policy.AUTO, false, false, true, true, false, 1)), "both GEMVs, timed apart");
    assertEquals(List.of("ours:skinny-fp8"),
        labels(GemmTuner.fp8Candidates(Policy.AUTO, false, false, true, true, false, 2)), "one row only");
    assertEquals(List.of("ours:gemv-fp8", "ours:skinny-fp8"),
        labels(GemmTuner.fp8Candidates(Policy.AUTO, false, false, true, false, false, 1)),
        "the tensor-core variant off, or a shape it does not take");
    assertEquals(List.of("ours:gemv-fp8", "ours:gemv-fp8-mma"), labels(GemmTuner.onlyGemvs(
        GemmTuner.fp8Candidates(Policy.AUTO, false, false, true, true, false, 1))), "DECODEFLEET_GEMV_FP8=only");
    assertEquals(List.of("ours:skinny-fp8"), labels(GemmTuner.onlyGemvs(
        GemmTuner.fp8Candidates(Policy.AUTO, false, false, true, true, false, 2))), "no GEMV past one row: as given");
    assertTrue(GemmTuner.gemvFp8Only(" Only "));
    assertFalse(GemmTuner.gemvFp8Only("on"));
    assertFalse(GemmTuner.gemvFp8Only(null));
    assertTrue(GemmTuner.gemvFp8InDispatch("only"), "only keeps the GEMV in");
    assertEquals(GemmTuner.GemvMma.ON, GemmTuner.GemvMma.parse(null), "on the tensor cores by default");
    assertEquals(GemmTuner.GemvMma.BOTH, GemmTuner.GemvMma.parse(" Both"));
    assertEquals(GemmTuner.GemvMma.OFF, GemmTuner.GemvMma.parse("off"));
    assertEquals(GemmTuner.GemvMma.ON, GemmTuner.GemvMma.parse("on"));
  }

  @Test
  void theBf16GemvIsACandidateAtOneRowOnlyWhenTimed() {
    assertEquals(GemmTuner.GemvBf16.ON, GemmTuner.GemvBf16.parse(null), "on unless said otherwise");
    assertEquals(GemmTuner.GemvBf16.ON, GemmTuner.GemvBf16.parse(" On "));
    assertEquals(GemmTuner.GemvBf16.ON, GemmTuner.GemvBf16.parse("1"));
    assertEquals(GemmTuner.GemvBf16.TIMED, GemmTuner.GemvBf16.parse("TIMED"));
    assertEquals(GemmTuner.GemvBf16.OFF, GemmTuner.GemvBf16.parse("off"));
    assertEquals(GemmTuner.GemvBf16.OFF, GemmTuner.GemvBf16.parse(" FALSE "));
    assertEquals(GemmTuner.GemvBf16.OFF, GemmTuner.GemvBf16.parse("0"));
    assertEquals(List.of("ours:gemv-bf16-mma", "ours:skinny", "cublaslt#0", "cublaslt#1"),
        labels(GemmTuner.candidates(1, 2, Policy.AUTO, false, false, true)));
    assertEquals(List.of("ours:gemv-bf16-mma", "ours:skinny"),
        labels(GemmTuner.candidates(1, 2, Policy.OURS, false, false, true)));
    assertEquals(List.of("ours:skinny", "cublaslt#0", "cublaslt#1"),
        labels(GemmTuner.candidates(2, 2, Policy.AUTO, false, false, true)), "one row only");
    assertEquals(List.of("ours:skinny", "cublaslt#0", "cublaslt#1"),
        labels(GemmTuner.candidates(1, 2, Policy.AUTO, false, false, false)), "not timed, or a shape it cannot take");
    assertEquals(List.of("cublaslt#0"), labels(GemmTuner.candidates(1, 2, Policy.CUBLASLT, false, false, true)),
        "--gemm cublaslt pins cuBLASLt");
    assertFalse(GemmChoice.Kernel.GEMV_BF16_MMA.fp8());
  }

  @Test
  void theFp8GemvAndTheFp8WgmmaSkinnyGemmRunUnlessSaidOff() {
    assertTrue(GemmTuner.gemvFp8InDispatch((String) null), "unset: on");
    assertTrue(GemmTuner.gemvFp8InDispatch(" ON "));
    assertFalse(GemmTuner.gemvFp8InDispatch(" OFF "));
    assertFalse(GemmTuner.gemvFp8InDispatch("0"));
    assertFalse(GemmTuner.gemvFp8InDispatch("false"));
    assertTrue(GemmTuner.skinnyFp8WgmmaInDispatch((String) null), "unset: on");
    assertFalse(GemmTuner.skinnyFp8WgmmaInDispatch("off"));
  }

  @Test
  void theFp8WgmmaSkinnyGemmIsACandidateFromThirtyThreeRowsWhereItMayRun() {
    assertEquals(List.of("ours:skinny-fp8", "ours:skinny-fp8-wgmma"),
        labels(GemmTuner.fp8Candidates(Policy.AUTO, false, false, false, true, 33)));
    assertEquals(List.of("ours:skinny-fp8", "ours:skinny-fp8-wgmma"),
        labels(GemmTuner.fp8Candidates(Policy.AUTO, false, false, false, true, 256)));
    assertEquals(List.of("ours:skinny-fp8"), labels(GemmTuner.fp8Candidates(Policy.AUTO, false, false, false, true, 32)),
        "32 rows: the m32 plan, which it does not take");
    assertEquals(List.of("ours:skinny-fp8"), labels(GemmTuner.fp8Candidates(Policy.AUTO, false, false, false, false, 64)),
        "cannot run here, or not enabled");
    assertEquals(List.of("ours:skinny2-fp8"), labels(GemmTuner.fp8Candidates(Policy.SKINNY2, true, false, false, true,
        64)), "--gemm skinny2 pins the second skinny GEMM");
    assertTrue(GemmChoice.Kernel.SKINNY_FP8_WGMMA.fp8());
  }
}
