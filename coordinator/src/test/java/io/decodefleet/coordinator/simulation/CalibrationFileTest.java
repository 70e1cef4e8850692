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
    json.remove("host_cores");
    assertEquals("missing field host_cores", refusal(dir, json));
    json = (ObjectNode) MAPPER.readTree(Calibrations.roundNumbers(0, 0).toJson());
    ((ObjectNode) json.get("layouts").get(0).get("decode").get(0)).put("step_us", -3);
    assertTrue(refusal(dir, json).contains("step_us must be > 0"), refusal(dir, json));
    json = (ObjectNode) MAPPER.readTree(Calibrations.roundNumbers(0, 0).toJson());
    json.put("kind", "guess");
    assertEquals("kind must be measured or projection, got 'guess'", refusal(dir, json));
  }

  @Test
  void aNameThatIsNeitherAFileNorBuiltInIsRefusedListingTheBuiltIns() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CalibrationFile.load("h100"));
    assertEquals("no such file h100 (or a built-in calibration: cpu-tiny, h200-llama3-8b-projection, "
        + "b200-llama3-8b-projection)", e.getMessage());
  }

  private static String refusal(Path dir, ObjectNode json) throws Exception {
    Path file = dir.resolve("bad.json");
    Files.writeString(file, json.toString());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CalibrationFile.read(file));
    return e.getMessage().substring((file + ": ").length());
  }
}
