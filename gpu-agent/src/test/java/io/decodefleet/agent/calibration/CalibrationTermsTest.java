package io.decodefleet.agent.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CalibrationTermsTest {

  @Test
  void theTensorParallelLineIsFittedToTheGroupsStepsAgainstOneDevices() {
    // t2 = t1 / (2 x 0.8) + 2 x 32 x 10: efficiency 0.8, 10 µs an all-reduce over 32 layers.
    List<double[]> pairs = List.of(new double[] {1000, 1000 / 1.6 + 640}, new double[] {4000, 4000 / 1.6 + 640},
        new double[] {9000, 9000 / 1.6 + 640});
    StepCalibration.TensorParallelScaling tp = CalibrationTerms.tensorParallel(pairs, 2, 32);
    assertEquals(0.8, tp.efficiency(), 1e-9);
    assertEquals(10, tp.allReduceMicros(), 1e-9);
    assertEquals(32, tp.layers());
    // Faster than linear scaling is held at an efficiency of 1; a negative intercept is refitted through 0.
    StepCalibration.TensorParallelScaling superlinear = CalibrationTerms.tensorParallel(
        List.of(new double[] {1000, 400}, new double[] {2000, 800}), 2, 4);
    assertEquals(1.0, superlinear.efficiency());
    StepCalibration.TensorParallelScaling below = CalibrationTerms.tensorParallel(
        List.of(new double[] {1000, 500}, new double[] {2000, 1100}), 2, 4);
    assertEquals(0, below.allReduceMicros());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CalibrationTerms.tensorParallel(List.of(new double[] {1000, 700}), 2, 4));
    assertTrue(e.getMessage().startsWith("fitting tensor-parallel steps needs 2 or more points"), e.getMessage());
  }

  @Test
  void theKvTransferLineIsLatencyPlusBytesOverRate() {
    // 50 µs + bytes / 20000 bytes a µs.
    List<double[]> points = List.of(new double[] {1e6, 50 + 1e6 / 2e4}, new double[] {8e6, 50 + 8e6 / 2e4},
        new double[] {64e6, 50 + 64e6 / 2e4});
    StepCalibration.KvTransferCost kv = CalibrationTerms.kvTransfer(points, 131072);
    assertEquals(50, kv.latencyMicros(), 1e-6);
    assertEquals(2e4, kv.bytesPerMicro(), 1e-6);
    assertEquals(131072, kv.bytesPerToken());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CalibrationTerms.kvTransfer(List.of(new double[] {1e6, 90}, new double[] {2e6, 80}), 1));
    assertTrue(e.getMessage().startsWith("the transfers do not take longer with more bytes"), e.getMessage());
  }

  @Test
  void theTermsGoIntoAnExistingCalibrationAndNothingElseChanges(@TempDir Path dir) throws Exception {
    StepCalibration cal = new StepCalibration(StepCalibration.MEASURED, "dev", "cuda", "tiny", 16, "2026-12-05", "c",
        null, 1, 1, new StepCalibration.EngineDefaults(10, 4, 64, true), List.of(new StepCalibration.LayoutTable(1,
        "eager", false, List.of(new StepCalibration.DecodePoint(1, 10, 100)),
        List.of(new StepCalibration.PrefillPoint(16, 200)))), null, null, List.of("n"));
    Path file = dir.resolve("cal.json");
    Files.writeString(file, cal.toJson());
    assertNull(CalibrationTerms.unwritable(file));
    CalibrationTerms.write(file, new StepCalibration.TensorParallelScaling(0.75, 12.5, 4));
    CalibrationTerms.write(file, new StepCalibration.KvTransferCost(40, 25000, 8192));
    JsonNode root = new ObjectMapper().readTree(Files.readString(file));
    assertEquals(0.75, root.get("tensor_parallel").get("efficiency").asDouble());
    assertEquals(12.5, root.get("tensor_parallel").get("all_reduce_us").asDouble());
    assertEquals(8192, root.get("kv_transfer").get("bytes_per_token").asLong());
    assertEquals(100.0, root.get("layouts").get(0).get("decode").get(0).get("step_us").asDouble());
    assertEquals("tiny", root.get("model").asText());
    Path other = dir.resolve("other.json");
    Files.writeString(other, "{\"format\": \"something\"}");
    assertTrue(CalibrationTerms.unwritable(other).contains("is not a calibration"), CalibrationTerms.unwritable(other));
    assertTrue(CalibrationTerms.unwritable(dir.resolve("missing.json")).startsWith("cannot read calibration"));
  }
}
