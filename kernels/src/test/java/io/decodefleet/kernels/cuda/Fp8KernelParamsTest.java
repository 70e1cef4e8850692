package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The FP8 kernels' parameter mirrors: what they refuse and the grids they launch. */
class Fp8KernelParamsTest {

  @Test
  void theGemmCoversEveryWeightRowAndXRowWithItsTiles() {
    Fp8GemmParams p = new Fp8GemmParams(256, 512, 1024, 2048, 17, 1001, 4096, 1001, 1, 0);
    LaunchShape s = p.launch();
    assertEquals((1001 + 7) / 8, s.gridX());
    assertEquals(3, s.gridY(), "17 x rows in tiles of 8");
    assertEquals(128, s.threads());
    assertEquals(0, s.sharedBytes());
    assertEquals(56, Fp8GemmParams.LAYOUT.size());
  }

  @Test
  void theGemmRefusesAKOfPartialVectorsAndABadScaleStride() {
    IllegalArgumentException k = assertThrows(IllegalArgumentException.class,
        () -> new Fp8GemmParams(256, 512, 1024, 2048, 1, 8, 24, 8, 1, 0));
    assertTrue(k.getMessage().contains("k"), k.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Fp8GemmParams(256, 512, 1024, 2048, 1, 8, 32, 8, 2, 0));
    assertThrows(IllegalArgumentException.class, () -> new Fp8GemmParams(256, 512, 1024, 2048, 1, 8, 32, 4, 1, 0));
  }

  @Test
  void theFp8AttentionChecksWhatThePlainOneChecksAndItsScales() {
    PagedAttentionFp8Params p = new PagedAttentionFp8Params(256, 512, 768, 1024, 1280, 1536, 1792, 5, 8, 2, 128, 16,
        0.088f, 0.5f, 2f);
    assertEquals(5, p.launch().gridX());
    assertEquals(8, p.launch().gridY());
    assertEquals(88, PagedAttentionFp8Params.LAYOUT.size());
    assertThrows(IllegalArgumentException.class, () -> new PagedAttentionFp8Params(256, 512, 768, 1024, 1280, 1536,
        1792, 5, 8, 3, 128, 16, 0.088f, 0.5f, 2f));
    assertThrows(IllegalArgumentException.class, () -> new PagedAttentionFp8Params(256, 512, 768, 1024, 1280, 1536,
        1792, 5, 8, 2, 128, 16, 0.088f, 0f, 2f));
  }
}
