package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cuda.Projections.Fp8Path;
import io.decodefleet.agent.backend.cuda.gemm.GemmChoice;
import io.decodefleet.agent.backend.cuda.gemm.GemmChoice.Kernel;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.kernels.cuda.SkinnyGemmPlan;
import org.junit.jupiter.api.Test;

class ProjectionsFp8PathTest {

  @Test
  void decodeRowsRunTheSecondSkinnyGemmWhereItMayAndTheFirstOneElsewhere() {
    for (int m : new int[] {1, 2, 3, 8, 9, 16, 17, 32, 40, 64, 65, 128, Projections.FP8_GEMM_MAX_ROWS}) {
      assertEquals(Fp8Path.SKINNY2_FP8, Projections.fp8Path(m, 4096, true, true), "m = " + m);
      assertEquals(Fp8Path.SKINNY_FP8, Projections.fp8Path(m, 4096, false, true), "no shim or setting off, m = " + m);
      assertEquals(Fp8Path.SKINNY_FP8, Projections.fp8Path(m, 4096, true, false), "x or codes unaligned, m = " + m);
    }
    assertEquals(Fp8Path.SKINNY2_FP8, Projections.fp8Path(Projections.FP8_GEMM_MAX_ROWS, 14336, true, true),
        "in launches of 64 rows");
    assertEquals(Fp8Path.SKINNY_FP8, Projections.fp8Path(4, 4104, true, true), "k not a multiple of 16");
  }

  @Test
  void prefillRowsWidenTheWeightWhateverTheSetting() {
    int m = Projections.FP8_GEMM_MAX_ROWS + 1;
    assertEquals(Fp8Path.WIDEN_THEN_BF16, Projections.fp8Path(m, 4096, true, true));
    assertEquals(Fp8Path.WIDEN_THEN_BF16, Projections.fp8Path(m, 4096, false, false));
  }

  @Test
  void prefillRowsRunTheWgmmaFp8GemmOnTheCodesWhereItMayElseWiden() {
    assertEquals(Fp8Path.WGMMA_FP8, Projections.fp8PrefillPath(4096, true, true));
    assertEquals(Fp8Path.WGMMA_FP8, Projections.fp8PrefillPath(14336, true, true));
    assertEquals(Fp8Path.WIDEN_THEN_BF16, Projections.fp8PrefillPath(4096, false, true), "off, or not sm_90 / no shim");
    assertEquals(Fp8Path.WIDEN_THEN_BF16, Projections.fp8PrefillPath(4096, true, false), "x or codes unaligned");
    assertEquals(Fp8Path.WIDEN_THEN_BF16, Projections.fp8PrefillPath(4104, true, true), "k not a multiple of 16");
  }

  @Test
  void aWgmmaFp8ChoiceRunsWhereItMayAndTheRowRuleElsewhere() {
    GemmChoice wgmma = GemmChoice.ours(Kernel.WGMMA_FP8, 8.0);
    assertEquals(Kernel.WGMMA_FP8, Projections.fp8Kernel(wgmma, 128, 4096, true, true, true));
    assertEquals(Kernel.WGMMA_FP8, Projections.fp8Kernel(wgmma, 256, 14336, false, true, true));
    assertEquals(Kernel.SKINNY2_FP8, Projections.fp8Kernel(wgmma, 128, 4096, true, false, true), "not on here");
    assertEquals(Kernel.SKINNY_FP8, Projections.fp8Kernel(wgmma, 128, 4096, false, true, false), "unaligned");
    assertEquals(Kernel.SKINNY_FP8, Projections.fp8Kernel(wgmma, 128, 4104, false, true, true), "k off 16");
    // The five-argument form knows no wgmma FP8 GEMM: its choice counts as none there.
    assertEquals(Kernel.SKINNY2_FP8, Projections.fp8Kernel(wgmma, 128, 4096, true, true));
  }

  @Test
  void theDispatchesChoiceRunsWhereItCanAndTheRowRuleElsewhere() {
    GemmChoice first = GemmChoice.ours(Kernel.SKINNY_FP8, 10.0);
    GemmChoice second = GemmChoice.ours(Kernel.SKINNY2_FP8, 9.0);
    // Timed faster: the second FP8 skinny GEMM, where it may run.
    assertEquals(Kernel.SKINNY2_FP8, Projections.fp8Kernel(second, 64, 4096, true, true));
    assertEquals(Kernel.SKINNY_FP8, Projections.fp8Kernel(second, 64, 4096, false, true), "setting off or no shim");
    assertEquals(Kernel.SKINNY_FP8, Projections.fp8Kernel(second, 64, 4096, true, false), "unaligned operands");
    assertEquals(Kernel.SKINNY_FP8, Projections.fp8Kernel(second, 8, 4104, true, true), "k not a multiple of 16");
    // Timed faster: the first, even where the second could run.
    assertEquals(Kernel.SKINNY_FP8, Projections.fp8Kernel(first, 64, 4096, true, true));
    // Untimed, or a bf16 kernel's choice for the same shape: the row rule.
    assertEquals(Kernel.SKINNY2_FP8, Projections.fp8Kernel(null, 64, 4096, true, true));
    assertEquals(Kernel.SKINNY_FP8, Projections.fp8Kernel(null, 64, 4096, false, true));
    assertEquals(Kernel.SKINNY2_FP8, Projections.fp8Kernel(GemmChoice.cublasLt(0, 5.0), 1, 4096, true, true));
    assertEquals(Kernel.SKINNY_FP8, Projections.fp8Kernel(GemmChoice.ours(Kernel.SKINNY2, 5.0), 1, 4096, false, true));
  }

  @Test
  void oneRowRunsTheGemvWhereItsSettingDepthAndAlignmentAllow() {
    assertTrue(Fp8Gemv.runs(true, 1, 4096, true));
    assertTrue(Fp8Gemv.runs(true, 1, 14336, true));
    assertTrue(Fp8Gemv.runs(true, 1, 16384, true), "x as float32 in 64 KiB");
    assertFalse(Fp8Gemv.runs(false, 1, 4096, true), "setting off");
    assertFalse(Fp8Gemv.runs(true, 2, 4096, true), "one row only");
    assertFalse(Fp8Gemv.runs(true, 1, 4096, false), "unaligned operands");
    assertFalse(Fp8Gemv.runs(true, 1, 4104, true), "k not a multiple of 16");
    assertFalse(Fp8Gemv.runs(true, 1, 16400, true), "x past 64 KiB");
  }

  @Test
  void oneRowOfBf16WeightsRunsTheBf16GemvOnWholeEightRowTasksAndDepthsOf256() {
    assertTrue(Fp8Gemv.bf16Runs(1, 6144, 4096, true));
    assertTrue(Fp8Gemv.bf16Runs(1, 4096, 14336, true));
    assertTrue(Fp8Gemv.bf16Runs(1, 1000, 768, true), "k 768: three 256-deep slices");
    assertFalse(Fp8Gemv.bf16Runs(2, 6144, 4096, true), "one row only");
    assertFalse(Fp8Gemv.bf16Runs(1, 6144, 4096, false), "unaligned operands");
    assertFalse(Fp8Gemv.bf16Runs(1, 1004, 4096, true), "1004 rows: no whole 8-row tasks");
    assertFalse(Fp8Gemv.bf16Runs(1, 1000, 528, true), "k 528");
  }

  @Test
  void theBf16GemvRunsWhereItFitsWhenOnAndWhereTheDispatchChoseItWhenTimed() {
    GemmChoice gemv = GemmChoice.ours(GemmChoice.Kernel.GEMV_BF16_MMA, 9.5);
    GemmChoice lt = GemmChoice.cublasLt(0, 10.1);
    assertTrue(Fp8Gemv.chosenBf16(GemmTuner.GemvBf16.ON, lt, 6144, 4096, true), "on: whatever was timed");
    assertTrue(Fp8Gemv.chosenBf16(GemmTuner.GemvBf16.ON, null, 6144, 4096, true), "on: untimed too");
    assertFalse(Fp8Gemv.chosenBf16(GemmTuner.GemvBf16.ON, lt, 6144, 4104, true), "on, but k does not fit");
    assertFalse(Fp8Gemv.chosenBf16(GemmTuner.GemvBf16.ON, lt, 6144, 4096, false), "on, but unaligned");
    assertTrue(Fp8Gemv.chosenBf16(GemmTuner.GemvBf16.TIMED, gemv, 6144, 4096, true));
    assertFalse(Fp8Gemv.chosenBf16(GemmTuner.GemvBf16.TIMED, lt, 6144, 4096, true), "timed: cuBLASLt won");
    assertFalse(Fp8Gemv.chosenBf16(GemmTuner.GemvBf16.TIMED, null, 6144, 4096, true), "timed: untimed");
    assertFalse(Fp8Gemv.chosenBf16(GemmTuner.GemvBf16.OFF, gemv, 6144, 4096, true), "off: never");
  }

  @Test
  void anFp8GemvChoiceRunsOnTheTensorCoresWhereOnAndTheShapeFits() {
    GemmChoice rows = GemmChoice.ours(GemmChoice.Kernel.GEMV_FP8, 9.5);
    GemmChoice mma = GemmChoice.ours(GemmChoice.Kernel.GEMV_FP8_MMA, 9.0);
    assertEquals(GemmChoice.Kernel.GEMV_FP8_MMA,
        Fp8Gemv.chosenFp8(rows, true, GemmTuner.GemvMma.ON, 1, 6144, 4096, true));
    assertEquals(GemmChoice.Kernel.GEMV_FP8, Fp8Gemv.chosenFp8(rows, true, GemmTuner.GemvMma.ON, 1, 1000, 528, true),
        "a shape the tensor cores do not take: a warp a row");
    assertEquals(GemmChoice.Kernel.GEMV_FP8, Fp8Gemv.chosenFp8(rows, true, GemmTuner.GemvMma.OFF, 1, 6144, 4096, true));
    assertEquals(GemmChoice.Kernel.GEMV_FP8, Fp8Gemv.chosenFp8(rows, true, GemmTuner.GemvMma.BOTH, 1, 6144, 4096, true),
        "both: each as timed");
    assertEquals(GemmChoice.Kernel.GEMV_FP8_MMA,
        Fp8Gemv.chosenFp8(mma, true, GemmTuner.GemvMma.BOTH, 1, 6144, 4096, true));
    assertNull(Fp8Gemv.chosenFp8(rows, false, GemmTuner.GemvMma.ON, 1, 6144, 4096, true), "the GEMV off");
    assertNull(Fp8Gemv.chosenFp8(null, true, GemmTuner.GemvMma.ON, 1, 6144, 4096, true), "untimed");
    assertNull(Fp8Gemv.chosenFp8(GemmChoice.ours(GemmChoice.Kernel.SKINNY_FP8, 9.0), true, GemmTuner.GemvMma.ON, 1,
        6144, 4096, true), "the skinny GEMM won");
  }

  @Test
  void oneRowRunsTheTensorCoreGemvOnWholeEightRowTasksAndDepthsOf512() {
    assertTrue(Fp8Gemv.mmaRuns(true, 1, 6144, 4096, true));
    assertTrue(Fp8Gemv.mmaRuns(true, 1, 4096, 14336, true));
    assertFalse(Fp8Gemv.mmaRuns(false, 1, 6144, 4096, true), "setting off");
    assertFalse(Fp8Gemv.mmaRuns(true, 2, 6144, 4096, true), "one row only");
    assertFalse(Fp8Gemv.mmaRuns(true, 1, 6144, 4096, false), "unaligned operands");
    assertFalse(Fp8Gemv.mmaRuns(true, 1, 1004, 4096, true), "1004 rows: no whole 8-row tasks");
    assertFalse(Fp8Gemv.mmaRuns(true, 1, 1000, 528, true), "k 528: not whole 64-code slices");
  }

  @Test
  void theFp8WgmmaSkinnyGemmRunsTheM64PlansWhereItsSettingAndDeviceAllow() {
    assertTrue(Projections.skinnyFp8WgmmaRuns(true, SkinnyGemmPlan.plan(64, 6144, 4096, 264), true));
    assertTrue(Projections.skinnyFp8WgmmaRuns(true, SkinnyGemmPlan.plan(33, 4096, 14336, 264), true));
    assertTrue(Projections.skinnyFp8WgmmaRuns(true, SkinnyGemmPlan.plan(256, 28672, 4096, 264), true), "4 m tiles");
    assertFalse(Projections.skinnyFp8WgmmaRuns(true, SkinnyGemmPlan.plan(32, 6144, 4096, 264), true), "the m32 plan");
    assertFalse(Projections.skinnyFp8WgmmaRuns(false, SkinnyGemmPlan.plan(64, 6144, 4096, 264), true), "off");
    assertFalse(Projections.skinnyFp8WgmmaRuns(true, SkinnyGemmPlan.plan(64, 6144, 4096, 264), false), "unaligned");
    assertFalse(Projections.skinnyFp8WgmmaRuns(true, SkinnyGemmPlan.plan(64, 6144, 4104, 264), true),
        "k not a multiple of 16");
  }
}

