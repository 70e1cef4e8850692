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

/** The FP8-weight Hopper GEMM's parameter struct, weight tensor map and launch shape, on the host. */
class WgmmaGemmFp8ParamsTest {
  private static final long OUT = 0x7f20_0000_0000L;
  private static final long SCALE = 0x7f30_0000_0000L;
  private static final long W = 0x7f10_0000_0000L;

  private static TensorMap filled(int value) {
    byte[] b = new byte[TensorMap.BYTES];
    for (int i = 0; i < b.length; i++) b[i] = (byte) (value + i);
    return new TensorMap(b);
  }

  @Test
  void layoutMatchesTheCudaStructAndPacksLittleEndian() {
    StructLayout l = WgmmaGemmFp8Params.LAYOUT;
    assertEquals(0, l.offsetOf("xMap"));
    assertEquals(128, l.offsetOf("wMap"));
    assertEquals(256, l.offsetOf("out"));
    assertEquals(264, l.offsetOf("scale"));
    assertEquals(272, l.offsetOf("m"));
    assertEquals(292, l.offsetOf("outFloat"));
    assertEquals(320, l.size(), "296 bytes of fields, padded to the 64-byte alignment (DF_PARAMS_SIZE 320)");
    TensorMap xm = filled(3);
    TensorMap wm = filled(90);
    byte[] bytes = new WgmmaGemmFp8Params(xm, wm, OUT, SCALE, 2048, 6144, 4096, 6144, 1, 0).pack();
    assertArrayEquals(xm.bytes(), Arrays.copyOfRange(bytes, 0, 128));
    assertArrayEquals(wm.bytes(), Arrays.copyOfRange(bytes, 128, 256));
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(OUT, b.getLong(256));
    assertEquals(SCALE, b.getLong(264));
    assertEquals(2048, b.getInt(272));
    assertEquals(6144, b.getInt(276));
    assertEquals(4096, b.getInt(280));
    assertEquals(6144, b.getInt(284));
    assertEquals(1, b.getInt(288));
    assertEquals(0, b.getInt(292));
  }

  @Test
  void theWeightMapCopiesBoxesOf64CodesBy256RowsUnswizzled() {
    TensorMapSpec w = WgmmaGemmFp8Params.wMapSpec(W, 28672, 4096);
    assertArrayEquals(new long[] {4096, 28672}, w.globalDims());
    assertArrayEquals(new long[] {4096}, w.globalStrides(), "one byte a code");
    assertArrayEquals(new int[] {64, 256}, w.boxDims());
    assertEquals(TensorMapSpec.DATA_TYPE_UINT8, w.dataType());
    assertEquals(TensorMapSpec.SWIZZLE_NONE, w.swizzle());
    TensorMapSpec x = WgmmaGemmParams.xMapSpec(W, 300, 4096);
    assertEquals(WgmmaGemmFp8Params.STAGE_BYTES, x.boxBytes() + w.boxBytes(), "the producer's expect_tx");
    var e = assertThrows(IllegalArgumentException.class, () -> WgmmaGemmFp8Params.wMapSpec(W, 64, 4104));
    assertTrue(e.getMessage().contains("k"), e.getMessage());
  }

  @Test
  void paramsRefuseWhatTheKernelCannotRun() {
    TensorMap any = filled(0);
    assertThrows(IllegalArgumentException.class, () -> new WgmmaGemmFp8Params(any, any, OUT, SCALE, 0, 64, 64, 64, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new WgmmaGemmFp8Params(any, any, OUT, SCALE, 8, 64, 72, 64, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new WgmmaGemmFp8Params(any, any, OUT, 0, 8, 64, 64, 64, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new WgmmaGemmFp8Params(any, any, OUT, SCALE, 8, 64, 64, 64, 2, 0));
    assertThrows(IllegalArgumentException.class, () -> new WgmmaGemmFp8Params(any, any, OUT, SCALE, 8, 64, 64, 60, 1, 0));
  }

  @Test
  void onlySm90RunsItAndItsGridIsTheBf16Kernels() {
    assertTrue(Kernel.WGMMA_GEMM_FP8.runsOn(9, 0));
    assertFalse(Kernel.WGMMA_GEMM_FP8.runsOn(10, 0));
    assertTrue(Kernel.WGMMA_GEMM_FP8.needsSharedOptIn());
    TensorMap any = filled(0);
    LaunchShape l = new WgmmaGemmFp8Params(any, any, OUT, SCALE, 8192, 4096, 4096, 4096, 1, 0).launch(132);
    assertEquals(132, l.gridX());
    assertEquals(384, l.threads());
    assertEquals(WgmmaGemmFp8Params.SHARED_BYTES, l.sharedBytes());
    assertTrue(l.sharedBytes() <= 232448, "within the 227 KiB a CTA may opt into");
    assertEquals(16, new WgmmaGemmFp8Params(any, any, OUT, SCALE, 64, 4096, 4096, 4096, 0, 0).launch(132).gridX());
  }

  @Test
  void javaConstantsMatchTheKernelsShapeAndSharedMemory() throws Exception {
    String src = Files.readString(CudaSources.DIR.resolve("wgmma_gemm_fp8.cu"));
    assertEquals(WgmmaGemmFp8Params.STAGES, constant(src, "kStages"));
    assertEquals(WgmmaGemmFp8Params.B_TILES, constant(src, "kBTiles"));
    assertEquals(Kernel.WGMMA_GEMM_FP8.threads(), constant(src, "kThreads"));
    assertEquals(WgmmaGemmFp8Params.SHARED_BYTES, Kernel.WGMMA_GEMM_FP8.sharedBytes());
  }

  private static int constant(String src, String name) {
    Matcher m = Pattern.compile("\\b" + name + "\\s*=\\s*(\\d+)").matcher(src);
    assertTrue(m.find(), name + " not found in wgmma_gemm_fp8.cu");
    return Integer.parseInt(m.group(1));
  }
}
