package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The paged prefill kernel's grid (whole groups of query heads per CTA) and its argument checks. */
class PagedPrefillAttentionParamsTest {

  private static PagedPrefillAttentionParams params(int qHeads, int kvHeads, int headDim, int blockSize, int spans) {
    return PagedPrefillAttentionParams.of(1, 2, 3, 4, 5, 6, 7, spans, qHeads, kvHeads, headDim, blockSize, 9, 0.125f);
  }

  @Test
  void aCtaTakesAsManySpanRowsAsWholeGroupsFitInSixtyFourMmaRows() {
    assertEquals(16, PagedPrefillAttentionParams.rowsPerCta(32, 8));
    assertEquals(8, PagedPrefillAttentionParams.rowsPerCta(64, 8));
    assertEquals(64, PagedPrefillAttentionParams.rowsPerCta(8, 8));
    assertEquals(9, PagedPrefillAttentionParams.rowsPerCta(28, 4), "group 7: 63 of 64 rows used");
    LaunchShape l = params(32, 8, 128, 16, 3).launch(257);
    assertEquals(17, l.gridX(), "257 rows in CTAs of 16");
    assertEquals(8, l.gridY());
    assertEquals(3, l.gridZ());
    assertEquals(Kernel.PAGED_PREFILL_ATTENTION_D128.sharedBytes(), l.sharedBytes());
    assertEquals(1, params(32, 8, 128, 16, 1).launch(0).gridX(), "an empty span still launches a grid");
  }

  @Test
  void theScaleIsInTheExp2DomainAndTheShiftFollowsTheBlockSize() {
    PagedPrefillAttentionParams p = params(32, 8, 64, 32, 1);
    assertEquals(5, p.blockShift());
    assertEquals(0.125 / Math.log(2.0), p.scaleLog2(), 1e-7);
    assertEquals(1f, p.kScale());
    assertEquals(Kernel.PAGED_PREFILL_ATTENTION_D64, p.kernel());
    assertEquals(Kernel.PAGED_PREFILL_ATTENTION_FP8_D64, p.kernel(true));
    PagedPrefillAttentionParams f = p.withKvScales(0.25f, 0.5f);
    assertEquals(0.25f, f.kScale());
    assertEquals(0.5f, f.vScale());
    assertEquals(Kernel.PAGED_PREFILL_ATTENTION_FP8_D128, params(32, 8, 128, 16, 1).kernel(true));
    assertEquals(96, PagedPrefillAttentionParams.LAYOUT.size());
  }

  @Test
  void shapesTheKernelCannotRunAreRefusedNamingTheArgument() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> params(34, 2, 128, 16, 1)).getMessage()
        .contains("qHeads / kvHeads must be <= 16"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> params(32, 8, 96, 16, 1)).getMessage()
        .contains("headDim must be 64 or 128"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> params(32, 8, 128, 24, 1)).getMessage()
        .contains("blockSize must be a power of two"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> params(32, 8, 128, 16, 1).withKvScales(0f, 1f))
        .getMessage().contains("kScale and vScale must be finite and > 0"));
  }
}
