package io.decodefleet.agent.backend.cuda.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GemmChoicesTest {

  private static final GemmShape QKV = new GemmShape(1, 6144, 4096, 6144, false);
  private static final GemmShape DOWN_TP = new GemmShape(1, 4096, 7168, 4096, true);

  private static GemmChoices sample() {
    GemmChoices c = new GemmChoices("NVIDIA H200 sm_90, driver 13000, cuBLASLt 130000, kernels abc123");
    c.put(QKV.withRows(1), GemmChoice.ours(GemmChoice.Kernel.SKINNY, 14.9));
    c.put(QKV.withRows(8), GemmChoice.cublasLt(2, 15.2));
    c.put(QKV.withRows(64), GemmChoice.cublasLt(0, 16.1));
    c.put(DOWN_TP.withRows(512), GemmChoice.ours(GemmChoice.Kernel.TENSOR_CORE, 80.5));
    return c;
  }

  @Test
  void aLaunchTakesTheDecisionOfTheSmallestTimedRowCountAtOrAboveIt() {
    GemmChoices c = sample();
    assertEquals("ours:skinny", c.choiceFor(QKV.withRows(1)).orElseThrow().label());
    assertEquals("cublaslt#2", c.choiceFor(QKV.withRows(2)).orElseThrow().label());
    assertEquals("cublaslt#2", c.choiceFor(QKV.withRows(8)).orElseThrow().label());
    assertEquals("cublaslt#0", c.choiceFor(QKV.withRows(9)).orElseThrow().label());
    assertEquals("cublaslt#0", c.choiceFor(QKV.withRows(4000)).orElseThrow().label(), "above every bucket: the largest");
    assertTrue(c.timed(QKV.withRows(8)));
    assertFalse(c.timed(QKV.withRows(9)));
  }

  @Test
  void projectionsAreToldApartByStrideAndOutputType() {
    GemmChoices c = sample();
    assertTrue(c.choiceFor(new GemmShape(1, 6144, 4096, 6144, true)).isEmpty(), "f32 output was never timed");
    assertTrue(c.choiceFor(new GemmShape(1, 6144, 4096, 8192, false)).isEmpty(), "other stride was never timed");
    assertEquals("ours:tensor-core", c.choiceFor(DOWN_TP.withRows(3)).orElseThrow().label());
  }

  @Test
  void theCacheFileRoundTripsUnderItsKeyOnly(@TempDir Path dir) throws IOException {
    GemmChoices c = sample();
    Path file = dir.resolve("sub").resolve("gemm.tsv");
    c.write(file);
    GemmChoices back = GemmChoices.read(file, c.key()).orElseThrow();
    assertEquals(c.entries(), back.entries());
    assertEquals("GEMM dispatch: cuBLASLt 2 of 4 shapes, ours 2", back.summary());
    assertEquals("GEMM dispatch: cuBLASLt 1 of 2 shapes, ours 1", back.summary(List.of(QKV.withRows(1),
        QKV.withRows(64))), "only the shapes asked about count");
    assertTrue(GemmChoices.read(file, "NVIDIA B200 sm_100, driver 13000, cuBLASLt 130000, kernels abc123").isEmpty());
    assertTrue(GemmChoices.read(dir.resolve("absent.tsv"), c.key()).isEmpty());
  }

  @Test
  void wgmmaChoicesRoundTripAndTheSummaryCountsThem(@TempDir Path dir) throws IOException {
    GemmChoices c = sample();
    c.put(QKV.withRows(2048), GemmChoice.ours(GemmChoice.Kernel.WGMMA, 101.5));
    Path file = dir.resolve("gemm.tsv");
    c.write(file);
    GemmChoices back = GemmChoices.read(file, c.key()).orElseThrow();
    assertEquals("ours:wgmma", back.choiceFor(QKV.withRows(1000)).orElseThrow().label());
    assertEquals(101.5, back.choiceFor(QKV.withRows(2048)).orElseThrow().micros());
    assertEquals("GEMM dispatch: cuBLASLt 2 of 5 shapes, ours 3 (ours:wgmma 1)", back.summary());
  }

  @Test
  void skinny2ChoicesRoundTripAndTheSummaryNamesThemBesideWgmma(@TempDir Path dir) throws IOException {
    GemmChoices c = sample();
    c.put(QKV.withRows(4), GemmChoice.ours(GemmChoice.Kernel.SKINNY2, 13.1));
    c.put(DOWN_TP.withRows(1), GemmChoice.ours(GemmChoice.Kernel.SKINNY2, 9.8));
    Path file = dir.resolve("gemm.tsv");
    c.write(file);
    assertTrue(Files.readString(file).contains("\tours:skinny2\t13.1\n"), "the label in the file");
    GemmChoices back = GemmChoices.read(file, c.key()).orElseThrow();
    assertEquals(GemmChoice.Kernel.SKINNY2, back.choiceFor(QKV.withRows(3)).orElseThrow().kernel());
    assertEquals(GemmChoice.Kernel.SKINNY, back.choiceFor(QKV.withRows(1)).orElseThrow().kernel(),
        "ours:skinny is not read as a prefix of ours:skinny2, nor the other way");
    assertEquals("GEMM dispatch: cuBLASLt 2 of 6 shapes, ours 4 (ours:skinny2 2)", back.summary());
    back.put(QKV.withRows(2048), GemmChoice.ours(GemmChoice.Kernel.WGMMA, 101.5));
    assertEquals("GEMM dispatch: cuBLASLt 2 of 7 shapes, ours 5 (ours:wgmma 1, ours:skinny2 2)", back.summary());
  }

  @Test
  void fp8ChoicesRoundTripBesideTheWidenedPrefillChoicesOfTheSameProjection(@TempDir Path dir) throws IOException {
    // An FP8 model's projection: our FP8 GEMMs at decode rows, the bf16 dispatch (on the widened
    // weight) past 256 rows, in one table.
    GemmChoices c = new GemmChoices("H200, fp8 weights");
    c.put(QKV.withRows(1), GemmChoice.ours(GemmChoice.Kernel.SKINNY2_FP8, 9.5));
    c.put(QKV.withRows(64), GemmChoice.ours(GemmChoice.Kernel.SKINNY2_FP8, 12.0));
    c.put(QKV.withRows(256), GemmChoice.ours(GemmChoice.Kernel.SKINNY_FP8, 40.0));
    c.put(QKV.withRows(512), GemmChoice.cublasLt(1, 60.0));
    Path file = dir.resolve("gemm.tsv");
    c.write(file);
    assertTrue(Files.readString(file).contains("\tours:skinny2-fp8\t9.5\n"), "the label in the file");
    GemmChoices back = GemmChoices.read(file, c.key()).orElseThrow();
    assertEquals(GemmChoice.Kernel.SKINNY2_FP8, back.choiceFor(QKV.withRows(17)).orElseThrow().kernel());
    assertEquals(GemmChoice.Kernel.SKINNY_FP8, back.choiceFor(QKV.withRows(200)).orElseThrow().kernel(),
        "ours:skinny-fp8 is its own label");
    assertEquals(GemmChoice.Kernel.CUBLASLT, back.choiceFor(QKV.withRows(300)).orElseThrow().kernel());
    assertTrue(back.choiceFor(QKV.withRows(64)).orElseThrow().kernel().fp8());
    assertFalse(back.choiceFor(QKV.withRows(512)).orElseThrow().kernel().fp8());
    assertEquals("GEMM dispatch: cuBLASLt 1 of 4 shapes, ours 3 (ours:skinny2-fp8 2)", back.summary());
  }

  @Test
  void bothOneRowFp8GemvsKeepTheirOwnLabels(@TempDir Path dir) throws IOException {
    GemmChoices c = new GemmChoices("H200, fp8 weights, gemv-fp8-mma BOTH");
    c.put(QKV.withRows(1), GemmChoice.ours(GemmChoice.Kernel.GEMV_FP8_MMA, 12.0));
    c.put(new GemmShape(1, 28672, 4096, 28672, false), GemmChoice.ours(GemmChoice.Kernel.GEMV_FP8, 35.8));
    Path file = dir.resolve("gemm.tsv");
    c.write(file);
    GemmChoices back = GemmChoices.read(file, c.key()).orElseThrow();
    assertEquals(GemmChoice.Kernel.GEMV_FP8_MMA, back.choiceFor(QKV.withRows(1)).orElseThrow().kernel(),
        "ours:gemv-fp8 is not read as a prefix of ours:gemv-fp8-mma, nor the other way");
    assertEquals(GemmChoice.Kernel.GEMV_FP8,
        back.choiceFor(new GemmShape(1, 28672, 4096, 28672, false)).orElseThrow().kernel());
    assertTrue(back.choiceFor(QKV.withRows(1)).orElseThrow().kernel().fp8());
    assertEquals("GEMM dispatch: cuBLASLt 0 of 2 shapes, ours 2 (ours:gemv-fp8 1, ours:gemv-fp8-mma 1)", back.summary());
  }

  @Test
  void aDamagedCacheFileIsAnErrorNamingFileAndLine(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("gemm.tsv");
    sample().write(file);
    Files.writeString(file, Files.readString(file).replace("cublaslt#2", "cublaslt#x"));
    IOException e = assertThrows(IOException.class, () -> GemmChoices.read(file, sample().key()));
    assertTrue(e.getMessage().startsWith(file + ":5: not a GEMM choice: 'cublaslt#x'"), e.getMessage());
  }

  @Test
  void choicesAndShapesRefuseWhatCannotBe() {
    assertThrows(IllegalArgumentException.class, () -> new GemmChoice(GemmChoice.Kernel.CUBLASLT, -1, 1));
    assertThrows(IllegalArgumentException.class, () -> new GemmChoice(GemmChoice.Kernel.SKINNY, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> new GemmShape(1, 4096, 4096, 4095, false));
    assertThrows(IllegalArgumentException.class, () -> new GemmChoices("two\nlines"));
    assertEquals(GemmChoice.cublasLt(3, 1.5), GemmChoice.parse("cublaslt#3", 1.5));
  }
}
