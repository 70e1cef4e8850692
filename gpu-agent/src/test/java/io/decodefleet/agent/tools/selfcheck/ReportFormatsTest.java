package io.decodefleet.agent.tools.selfcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Pass/fail rules and the table of the kernel self-check: pure Java, no GPU. */
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
}
