package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.decodefleet.agent.backend.cuda.Projections.Fp8Path;
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
}
