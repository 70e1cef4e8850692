package io.decodefleet.agent.backend.cuda.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Pass/fail rules, the table and the JSON of the device tools: pure Java, no GPU. */
class ReportFormatsTest {

  @Test
  void nanErrorNeverPassesAndTheRowSaysWhy() {
    CheckResult nan = new CheckResult("rmsnorm", "rows=1", Double.NaN, 1e-2,
        "NaN or unwritten output", 3.0, 1000, 0, 1.0);
    assertFalse(nan.passed());
    String row = ResultTable.row(nan);
    assertTrue(row.contains("FAIL") && row.contains("NaN or unwritten output"), row);
    CheckResult ok = new CheckResult("rmsnorm", "rows=1", 4e-3, 1e-2, "", 2.0, 4e6, 0, 1.0);
    assertTrue(ok.passed());
    assertTrue(ResultTable.row(ok).contains("2.00 TB/s"), ResultTable.row(ok));
  }

  @Test
  void errorAboveToleranceFailsEvenWithoutAFailureMessage() {
    assertFalse(new CheckResult("a", "b", 2e-2, 1e-2, "", 1, 1, 0, 1).passed());
    assertFalse(new CheckResult("copy", "b", 1e-9, 0.0, "", 1, 1, 0, 1).passed(), "exact means 0");
  }

  @Test
  void normwiseErrorIgnoresPlannedNaNButNotUnwrittenOnes() {
    float[] ref = {1f, 2f, Float.NaN, 4f};
    assertEquals(0.0, Compare.relError(new float[] {1f, 2f, Float.NaN, 4f}, ref));
    assertTrue(Double.isNaN(Compare.relError(new float[] {1f, Float.NaN, Float.NaN, 4f}, ref)));
    assertEquals(Math.sqrt(1.0 / 21.0), Compare.relError(new float[] {1f, 2f, Float.NaN, 5f}, ref),
        1e-12);
    assertTrue(Double.isNaN(Compare.worst(0.0, Double.NaN)));
  }

  @Test
  void benchJsonCarriesShapeTimeBandwidthAndFloor() {
    Map<String, Long> shape = new LinkedHashMap<>();
    shape.put("batch", 8L);
    shape.put("context", 4096L);
    BenchResult r = new BenchResult("decode_attention", "persistent", shape, 250.0, 1e9, 220.0,
        1, 20);
    assertEquals(4.0, r.terabytesPerSecond(), 1e-12);
    assertEquals("batch=8 context=4096", r.shapeText());
    String json = r.toJson();
    assertTrue(json.startsWith("{\"kernel\": \"decode_attention\", \"variant\": \"persistent\","
        + " \"shape\": {\"batch\": 8, \"context\": 4096}, \"median_us\": 250.000"), json);
    assertTrue(json.contains("\"tb_per_s\": 4.0000") && json.contains("\"floor_us\": 220.000"),
        json);
  }

  @Test
  void inputSetsTogetherExceedThreeL2sAndStayBounded() {
    int l2 = 50 << 20;
    assertEquals(38, BenchPool.inputSets(4L << 20, l2));
    assertEquals(1, BenchPool.inputSets(4L << 30, l2));
    assertEquals(BenchPool.MAX_SETS, BenchPool.inputSets(1024, l2));
    int sets = BenchPool.inputSets(32L << 20, l2);
    assertTrue(sets * (32L << 20) >= 3L * l2);
  }
}
