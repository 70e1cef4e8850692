package io.decodefleet.coordinator.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.agent.calibration.StepCalibration;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CalibrationFileTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Test
  void whatTheBenchWritesReadsBackAsTheSameCalibration(@TempDir Path dir) throws Exception {
    StepCalibration written = Calibrations.roundNumbers(2, 250);
    Path file = dir.resolve("cal.json");
    Files.writeString(file, written.toJson());
    assertEquals(written, CalibrationFile.read(file));
    assertEquals(written, CalibrationFile.load(file.toString()));
    // An expert-parallel table says so ("parallelism": "expert") and reads back as one.
    StepCalibration moe = Calibrations.tinyMoe(2, true);
    Files.writeString(file, moe.toJson());
    assertTrue(moe.toJson().contains("\"layout\": \"ep=2\", \"tensor_parallel\": 2, \"parallelism\": \"expert\""),
        moe.toJson());
    StepCalibration read = CalibrationFile.read(file);
    assertEquals(moe, read);
    // bench tp --calibration and bench kv-transfer --calibration add their terms to such a file.
    Files.writeString(file, Calibrations.roundNumbers(0, 0).toJson().replaceAll(
        "\\s*\"(kv_transfer|tensor_parallel)\": \\{[^}]*},", ""));
    io.decodefleet.agent.calibration.CalibrationTerms.write(file,
        new StepCalibration.TensorParallelScaling(0.75, 12.5, 4));
    io.decodefleet.agent.calibration.CalibrationTerms.write(file, new StepCalibration.KvTransferCost(40, 25000, 8192));
    StepCalibration withTerms = CalibrationFile.read(file);
    assertEquals(new StepCalibration.TensorParallelScaling(0.75, 12.5, 4), withTerms.tensorParallel());
    assertEquals(new StepCalibration.KvTransferCost(40, 25000, 8192), withTerms.kvTransfer());
    assertEquals(Calibrations.roundNumbers(0, 0).layouts(), withTerms.layouts());
    assertTrue(read.table(true, 2, null).isPresent());
    assertTrue(read.table(2, null).isEmpty(), "an ep=2 table is no tp=2 table");
  }

  @Test
  void aCpuStepBenchWritesACalibrationTheSimulationReads(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("cpu.json");
    Path results = dir.resolve("results.json");
    assertEquals(0, io.decodefleet.agent.cli.GpuAgentCli.run("bench", "step", "--backend", "cpu", "--model", "tiny",
        "--batches", "1,2", "--context", "16,48", "--prefill", "8,24", "--reps", "1", "--message-us", "120",
        "--calibration-out", file.toString(), "--out", results.toString()));
    // The results file is strict JSON: a rate the CPU has none of is null, not NaN.
    var json = new ObjectMapper().readTree(results.toFile());
    assertTrue(json.get("gemm_tflop_per_s").isNull(), json.toString());
    assertTrue(json.get("copy_tb_per_s").asDouble() > 0, json.toString());
    assertEquals(4, json.get("decode").size());
    StepCalibration cal = CalibrationFile.read(file);
    assertEquals("measured", cal.kind());
    assertEquals("cpu", cal.backend());
    assertEquals(Runtime.getRuntime().availableProcessors(), cal.host().cores());
    assertEquals(0, cal.host().otherCpu());
    assertEquals(120, cal.dispatchMicros());
    assertEquals(1024, cal.defaults().kvBlocks()); // 32 MiB of float32 KV, 2 KiB per token of tiny
    assertEquals(64, cal.defaults().maxNumSeqs());
    StepCalibration.LayoutTable t = cal.layouts().get(0);
    assertEquals(4, t.decode().size());
    assertEquals(java.util.List.of(8, 24), t.prefill().stream().map(StepCalibration.PrefillPoint::tokens).toList());
    assertTrue(cal.command().startsWith("gpu-agent bench step --backend cpu"), cal.command());
    StepTimeModel.of(cal, 1, null);
  }

  @Test
  void aRooflineProjectionIsLabelledAndFollowsThePublishedRates(@TempDir Path dir) {
    Path file = dir.resolve("h200.json");
    assertEquals(0, io.decodefleet.agent.cli.GpuAgentCli.run("bench", "roofline", "--device", "h200", "--model",
        "llama3-8b", "--calibration-out", file.toString()));
    StepCalibration cal = CalibrationFile.read(file);
    assertTrue(cal.projection());
    assertTrue(cal.notes().get(0).startsWith("PROJECTION, not a measurement"), cal.notes().get(0));
    // Decode at batch 1 reads the bf16 weights but the embedding (15.01 GB) and 1024 tokens of KV (128 KiB
    // each), at 62 % of 4.8 TB/s, plus 100 µs and the engine's 13.7 µs for its one sequence.
    double bytes = 15_009_849_344.0 + 1024 * 131072.0;
    double expected = bytes / (4.8e12 * 0.62) * 1e6 + 100 + 13.7;
    StepTimeModel m = StepTimeModel.of(cal, 1, "persistent+graph");
    assertEquals(expected, m.decodeMicros(1, 1024), expected * 1e-6);
  }

  @Test
  void everyBuiltInCalibrationLoadsAndSaysWhetherItIsAProjection() {
    for (String name : CalibrationFile.BUILT_IN) {
      StepCalibration cal = CalibrationFile.load(name);
      assertEquals(name.endsWith("-projection"), cal.projection(), name);
      StepTimeModel.of(cal, 1, cal.layouts().get(0).decodePath()); // a usable table
    }
  }

  @Test
  void aFileThatIsNotACalibrationIsRefusedNamingTheField(@TempDir Path dir) throws Exception {
    ObjectNode json = (ObjectNode) MAPPER.readTree(Calibrations.roundNumbers(0, 0).toJson());
    json.put("format", "something-else");
    assertEquals("format must be " + StepCalibration.FORMAT + ", got 'something-else'", refusal(dir, json));
    json = (ObjectNode) MAPPER.readTree(Calibrations.roundNumbers(0, 0).toJson());
    json.remove("dispatch_us");
    assertEquals("missing field dispatch_us", refusal(dir, json));
    json = (ObjectNode) MAPPER.readTree(Calibrations.roundNumbers(0, 0).toJson());
    ((ObjectNode) json.get("layouts").get(0).get("decode").get(0)).put("step_us", -3);
    assertTrue(refusal(dir, json).contains("step_us must be > 0"), refusal(dir, json));
    json = (ObjectNode) MAPPER.readTree(Calibrations.roundNumbers(0, 0).toJson());
    json.put("kind", "guess");
    assertEquals("kind must be measured or projection, got 'guess'", refusal(dir, json));
    json = (ObjectNode) MAPPER.readTree(Calibrations.roundNumbers(0, 0).toJson());
    ((ObjectNode) json.get("layouts").get(0)).put("parallelism", "pipeline");
    assertEquals("layouts[].parallelism must be tensor or expert, got 'pipeline'", refusal(dir, json));
    json = (ObjectNode) MAPPER.readTree(Calibrations.roundNumbers(0, 0).toJson());
    ((ObjectNode) json.get("layouts").get(0)).put("parallelism", "expert");
    assertEquals("an expert-parallel table needs tensor_parallel >= 2, got 1", refusal(dir, json));
  }

  @Test
  void aNameThatIsNeitherAFileNorBuiltInIsRefusedListingTheBuiltIns() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CalibrationFile.load("h100"));
    assertEquals("no such file h100 (or a built-in calibration: cpu-tiny, cpu-tiny-moe, h100-llama3-8b, "
        + "h200-llama3-8b-projection, b200-llama3-8b-projection)", e.getMessage());
  }

  @Test
  void aCalibrationPutBesideTheBuiltInsLoadsByItsNameAndANameIsNeverAPath() {
    // test resources: calibrations/placed-here.json, a copy of cpu-tiny's
    assertEquals(CalibrationFile.load("cpu-tiny"), CalibrationFile.load("placed-here"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CalibrationFile.load("../calibrations/placed-here"));
    assertTrue(e.getMessage().startsWith("no such file ../calibrations/placed-here"), e.getMessage());
  }

  @Test
  void stepsOfSeveralPromptsRoundTripAndATableNeedsOnePromptAlone(@TempDir Path dir) throws Exception {
    java.util.List<StepCalibration.PrefillPoint> prefill = new java.util.ArrayList<>(Calibrations.PREFILL);
    prefill.add(new StepCalibration.PrefillPoint(200, 6000, 4));
    StepCalibration cal = Calibrations.withTables(0, 0, java.util.List.of(new StepCalibration.LayoutTable(1, "cpu",
        false, Calibrations.DECODE, prefill)));
    Path file = dir.resolve("batched.json");
    Files.writeString(file, cal.toJson());
    assertTrue(cal.toJson().contains("{\"tokens\": 200, \"prompts\": 4, \"step_us\": 6000"), cal.toJson());
    assertEquals(prefill, CalibrationFile.read(file).layouts().get(0).prefill());
    ObjectNode json = (ObjectNode) MAPPER.readTree(cal.toJson());
    com.fasterxml.jackson.databind.node.ArrayNode points = (com.fasterxml.jackson.databind.node.ArrayNode)
        json.get("layouts").get(0).get("prefill");
    points.remove(1);
    points.remove(0);
    assertEquals("dp cpu: needs a prefill point of one prompt", refusal(dir, json));
  }

  private static String refusal(Path dir, ObjectNode json) throws Exception {
    Path file = dir.resolve("bad.json");
    Files.writeString(file, json.toString());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CalibrationFile.read(file));
    return e.getMessage().substring((file + ": ").length());
  }
}
