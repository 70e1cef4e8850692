package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The Hopper GEMM's parameter struct, tensor-map parameters and launch shape, on the host. */
class WgmmaGemmParamsTest {

  private static final long X = 0x7f00_0000_0000L;
  private static final long W = 0x7f10_0000_0000L;
  private static final long OUT = 0x7f20_0000_0000L;

  private static TensorMap filled(int value) {
    byte[] b = new byte[TensorMap.BYTES];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (value + i);
    }
    return new TensorMap(b);
  }

  @Test
  void layoutPutsBothTensorMapsFirstAt64ByteAlignedOffsetsAndRoundsTheSizeTo64() {
    StructLayout l = WgmmaGemmParams.LAYOUT;
    assertEquals(0, l.offsetOf("xMap"));
    assertEquals(128, l.offsetOf("wMap"));
    assertEquals(256, l.offsetOf("out"));
    assertEquals(264, l.offsetOf("m"));
    assertEquals(268, l.offsetOf("n"));
    assertEquals(272, l.offsetOf("k"));
    assertEquals(276, l.offsetOf("outStride"));
    assertEquals(280, l.offsetOf("outFloat"));
    assertEquals(320, l.size(), "284 bytes of fields, padded to the 64-byte alignment");
  }

  @Test
  void packCopiesTheEncodedMapsVerbatimAndTheScalarsLittleEndian() {
    TensorMap xm = filled(1);
    TensorMap wm = filled(77);
    byte[] bytes = new WgmmaGemmParams(xm, wm, OUT, 1000, 4096, 14336, 4100, 1).pack();
    assertEquals(320, bytes.length);
    assertArrayEquals(xm.bytes(), Arrays.copyOfRange(bytes, 0, 128));
    assertArrayEquals(wm.bytes(), Arrays.copyOfRange(bytes, 128, 256));
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(OUT, b.getLong(256));
    assertEquals(1000, b.getInt(264));
    assertEquals(4096, b.getInt(268));
    assertEquals(14336, b.getInt(272));
    assertEquals(4100, b.getInt(276));
    assertEquals(1, b.getInt(280));
    for (int i = 284; i < 320; i++) {
      assertEquals(0, bytes[i], "padding byte " + i);
    }
  }

  @Test
  void tensorMapsDescribeXAndWAsKMajorBoxesOfTheTileWithTheSwizzleSpanAsK() {
    TensorMapSpec x = WgmmaGemmParams.xMapSpec(X, 1000, 14336);
    assertArrayEquals(new long[] {14336, 1000}, x.globalDims());
    assertArrayEquals(new long[] {14336 * 2}, x.globalStrides());
    assertArrayEquals(new int[] {64, 128}, x.boxDims());
    TensorMapSpec w = WgmmaGemmParams.wMapSpec(W, 4096, 14336);
    assertArrayEquals(new long[] {14336, 4096}, w.globalDims());
    assertArrayEquals(new long[] {14336 * 2}, w.globalStrides());
    assertArrayEquals(new int[] {64, 256}, w.boxDims());
    assertEquals(TensorMapSpec.SWIZZLE_SPAN_BYTES, x.boxInner() * TensorMapSpec.ELEMENT_BYTES,
        "a box row is exactly one 128-byte swizzle row, as the kernel's descriptors assume");
    assertEquals(WgmmaGemmParams.STAGE_BYTES, x.boxBytes() + w.boxBytes(), "the producer's expect_tx");
    assertEquals(48 * 1024, WgmmaGemmParams.STAGE_BYTES);
  }

  @Test
  void tensorMapSpecRefusesWhatTheDriverWouldRefuseNamingTheParameter() {
    var e = assertThrows(IllegalArgumentException.class, () -> WgmmaGemmParams.xMapSpec(X, 64, 4100));
    assertTrue(e.getMessage().contains("k"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new TensorMapSpec(X + 8, 64, 64, 128, 64, 128));
    assertTrue(e.getMessage().startsWith("address"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new TensorMapSpec(X, 64, 64, 120, 64, 128));
    assertTrue(e.getMessage().startsWith("rowStrideBytes"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new TensorMapSpec(X, 64, 0, 128, 64, 128));
    assertTrue(e.getMessage().startsWith("outer"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new TensorMapSpec(X, 128, 64, 256, 128, 128));
    assertTrue(e.getMessage().startsWith("boxInner"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new TensorMapSpec(X, 64, 512, 128, 64, 512));
    assertTrue(e.getMessage().startsWith("boxOuter"), e.getMessage());
  }

  @Test
  void tilesCoverEdgesAndThePersistentGridIsAtMostOneCtaPerSm() {
    assertEquals(64 * 16, WgmmaGemmParams.tiles(8192, 4096));
    assertEquals(8 * 16, WgmmaGemmParams.tiles(1000, 4096), "1000 rows: 7 full row tiles and one of 104");
    assertEquals(1 * 112, WgmmaGemmParams.tiles(64, 28672));
    assertEquals(1, WgmmaGemmParams.tiles(1, 1));
    assertEquals(4, WgmmaGemmParams.tiles(128, 1000), "1000 columns: 3 full column tiles and one of 232");
    assertEquals(64, WgmmaGemmParams.kSteps(4096));
    assertEquals(224, WgmmaGemmParams.kSteps(14336));
    assertEquals(2, WgmmaGemmParams.kSteps(72), "the second k-step is zero-filled past k");
    TensorMap any = filled(0);
    LaunchShape big = new WgmmaGemmParams(any, any, OUT, 8192, 4096, 4096, 4096, 0).launch(132);
    assertEquals(132, big.gridX());
    assertEquals(384, big.threads());
    assertEquals(Kernel.WGMMA_GEMM.sharedBytes(), big.sharedBytes());
    assertEquals(16, new WgmmaGemmParams(any, any, OUT, 64, 4096, 4096, 4096, 0).launch(132).gridX(),
        "fewer tiles than SMs: one CTA per tile");
  }

  @Test
  void theScheduleVisitsEveryTileOnceAndAWaveStaysInsideAGroupOfRowTiles() {
    int[][] shapes = {{8192, 4096}, {1000, 28672}, {128, 4096}, {2100, 1000}, {17 * 128, 3 * 256}};
    for (int[] mn : shapes) {
      int tilesM = (mn[0] + 127) / 128;
      int tilesN = (mn[1] + 255) / 256;
      int tiles = (int) WgmmaGemmParams.tiles(mn[0], mn[1]);
      boolean[][] seen = new boolean[tilesM][tilesN];
      for (int t = 0; t < tiles; t++) {
        int[] tile = WgmmaGemmParams.tileOf(t, tilesM, tilesN);
        assertTrue(tile[0] < tilesM && tile[1] < tilesN, "position " + t + " of " + mn[0] + "x" + mn[1]);
        assertFalse(seen[tile[0]][tile[1]], "tile visited twice at position " + t);
        seen[tile[0]][tile[1]] = true;
      }
    }
    // 8192 x 4096 on 132 SMs: the first wave covers 16 row tiles and 9 of the 16 column tiles
    java.util.Set<Integer> rows = new java.util.HashSet<>();
    java.util.Set<Integer> cols = new java.util.HashSet<>();
    for (int t = 0; t < 132; t++) {
      int[] tile = WgmmaGemmParams.tileOf(t, 64, 16);
      rows.add(tile[0]);
      cols.add(tile[1]);
    }
    assertEquals(16, rows.size());
    assertEquals(9, cols.size());
  }

  @Test
  void paramsRefuseEmptyRowsUnalignedKAndShortStrides() {
    TensorMap any = filled(0);
    assertThrows(IllegalArgumentException.class, () -> new WgmmaGemmParams(any, any, OUT, 0, 64, 64, 64, 0));
    assertThrows(IllegalArgumentException.class, () -> new WgmmaGemmParams(any, any, OUT, 8, 64, 60, 64, 0));
    assertThrows(IllegalArgumentException.class, () -> new WgmmaGemmParams(any, any, OUT, 8, 64, 64, 63, 0));
    assertThrows(IllegalArgumentException.class, () -> new WgmmaGemmParams(null, any, OUT, 8, 64, 64, 64, 0));
    assertThrows(IllegalArgumentException.class, () -> new TensorMap(new byte[64]));
  }

  @Test
  void onlySm90RunsTheKernelAndEveryOtherKernelRunsEverywhere() {
    assertTrue(Kernel.WGMMA_GEMM.runsOn(9, 0));
    assertFalse(Kernel.WGMMA_GEMM.runsOn(10, 0));
    assertFalse(Kernel.WGMMA_GEMM.runsOn(12, 0));
    assertTrue(Kernel.GEMM.runsOn(10, 0));
    assertTrue(Kernel.WGMMA_GEMM.needsSharedOptIn());
  }

  @Test
  void javaConstantsMatchTheKernelsShapeAndSharedMemory() throws Exception {
    String src = Files.readString(CudaSources.DIR.resolve("wgmma_gemm.cu"));
    assertEquals(WgmmaGemmParams.TILE_M, constant(src, "kTileM"));
    assertEquals(WgmmaGemmParams.TILE_N, constant(src, "kTileN"));
    assertEquals(WgmmaGemmParams.TILE_K, constant(src, "kTileK"));
    assertEquals(WgmmaGemmParams.STAGES, constant(src, "kStages"));
    assertEquals(WgmmaGemmParams.GROUP_M, constant(src, "kGroupM"));
    assertEquals(Kernel.WGMMA_GEMM.threads(), constant(src, "kThreads"));
    assertEquals(WgmmaGemmParams.STAGES * WgmmaGemmParams.STAGE_BYTES + 1024 + 2 * WgmmaGemmParams.STAGES * 8,
        Kernel.WGMMA_GEMM.sharedBytes());
  }

  private static int constant(String src, String name) {
    Matcher m = Pattern.compile("\\b" + name + "\\s*=\\s*(\\d+)").matcher(src);
    assertTrue(m.find(), name + " not found in wgmma_gemm.cu");
    return Integer.parseInt(m.group(1));
  }
}
