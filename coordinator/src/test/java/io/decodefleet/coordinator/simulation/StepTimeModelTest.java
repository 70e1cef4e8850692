package io.decodefleet.coordinator.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.calibration.StepCalibration;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepTimeModelTest {
  private final StepTimeModel model = StepTimeModel.of(Calibrations.roundNumbers(0, 0), 1, null);

  @Test
  void decodeIsBilinearBetweenMeasuredPointsAndExactOnThem() {
    assertEquals(1000, model.decodeMicros(1, 100), 1e-9);
    assertEquals(3000, model.decodeMicros(8, 1100), 1e-9);
    // Halfway in batch (4.5) and in context (600): the mean of the four corners.
    assertEquals(2000, model.decodeMicros(4, 600) + 1000.0 / 7 * 0.5, 1e-9);
    assertEquals(1500, model.decodeMicros(1, 600), 1e-9);
  }

  @Test
  void beyondTheLastPointTheLastSegmentGoesOn() {
    assertEquals(3000, model.decodeMicros(15, 100), 1e-9); // batch 8 -> 15: +7 x 1000/7
    assertEquals(4000, model.decodeMicros(8, 2100), 1e-9); // context +1000: +1000
    assertEquals(13000, model.prefillMicros(300), 1e-9); // 9000 + 100 x 40
  }

  @Test
  void belowTheFirstPointTheLineNeverGoesUnderZero() {
    // Prefill: P(0) = 1000 from the line through the two points.
    assertEquals(1000, model.prefillMicros(0), 1e-9);
    assertEquals(1400, model.prefillMicros(10), 1e-9);
    // A steep first segment whose line would cross zero runs from 0 instead.
    StepCalibration steep = Calibrations.withTables(0, 0, List.of(new StepCalibration.LayoutTable(1, "cpu", false,
        Calibrations.DECODE, List.of(new StepCalibration.PrefillPoint(100, 1000),
            new StepCalibration.PrefillPoint(200, 5000)))));
    StepTimeModel m = StepTimeModel.of(steep, 1, null);
    assertEquals(0, m.prefillMicros(0), 1e-9);
    assertEquals(500, m.prefillMicros(50), 1e-9);
    // Context below the first decode point: D(1, 0) follows the line down to 900 (1000 - 100 x 1).
    assertEquals(900, model.decodeMicros(1, 0), 1e-9);
  }

  @Test
  void aMixedStepIsTheDecodePlusWhatEachChunkAddsToThePrefillCurve() {
    // 2 decode rows at contexts 100 and 100, plus a chunk of 50 tokens from position 100.
    double decode = model.decodeMicros(2, 100);
    assertEquals(decode + 50 * 40, model.stepMicros(2, 200, new int[] {100}, new int[] {50}, 1), 1e-9);
    // Prefill alone: P(0) once, then each chunk's increment: two prompts of 100 from position 0.
    assertEquals(1000 + 2 * 4000, model.stepMicros(0, 0, new int[] {0, 0}, new int[] {100, 100}, 2), 1e-9);
    // One prompt alone costs exactly its prefill point.
    assertEquals(5000, model.stepMicros(0, 0, new int[] {0}, new int[] {100}, 1), 1e-9);
  }

  /**
   * With steps of several prompts measured, B(n) = 4000 + 10 n (through 200 tokens in 4 prompts, 6000,
   * and 400 in 8, 8000); P(t) = 1000 + 40 t, so a prompt's own attention A(t) = max(0, 30 t - 3000).
   */
  @Test
  void withStepsOfSeveralPromptsAStepsRowsArePricedTogether() {
    List<StepCalibration.PrefillPoint> prefill = new java.util.ArrayList<>(Calibrations.PREFILL);
    prefill.add(new StepCalibration.PrefillPoint(200, 6000, 4));
    prefill.add(new StepCalibration.PrefillPoint(400, 8000, 8));
    StepTimeModel batched = StepTimeModel.of(Calibrations.withTables(0, 0, List.of(new StepCalibration.LayoutTable(
        1, "cpu", false, Calibrations.DECODE, prefill))), 1, null);
    // 2 decode rows (mean context 600) and chunks of 100 tokens from 0 and of 50 from 100:
    // B(152) = 5520, the rows' KV past context 100: D(2, 600) - D(2, 100) = 500, A(150) - A(100) = 1500.
    assertEquals(5520 + 500 + 1500, batched.stepMicros(2, 1200, new int[] {0, 100}, new int[] {100, 50}, 2), 1e-9);
    // One prompt alone is the one-prompt curve: B(200) + A(200) = P(200).
    assertEquals(9000, batched.stepMicros(0, 0, new int[] {0}, new int[] {200}, 1), 1e-9);
    // Pure decode steps and one-prompt times are unchanged.
    assertEquals(model.decodeMicros(2, 600), batched.stepMicros(2, 1200, new int[0], new int[0], 0), 1e-9);
    assertEquals(model.prefillMicros(150), batched.prefillMicros(150), 1e-9);
    // Without such points, sixteen prompts of 100 cost sixteen increments of the one-prompt curve.
    int[] starts = new int[16];
    int[] tokens = new int[16];
    java.util.Arrays.fill(tokens, 100);
    assertEquals(1000 + 16 * 4000, model.stepMicros(0, 0, starts, tokens, 16), 1e-9);
    assertEquals(4000 + 10 * 1600, batched.stepMicros(0, 0, starts, tokens, 16), 1e-9);
  }

  @Test
  void timesThatFallWithMoreWorkAreLiftedToTheSmallerPointsTime() {
    StepCalibration noisy = Calibrations.withTables(0, 0, List.of(new StepCalibration.LayoutTable(1, "cpu", false,
        List.of(new StepCalibration.DecodePoint(1, 100, 1000), new StepCalibration.DecodePoint(8, 100, 900),
            new StepCalibration.DecodePoint(1, 1100, 800), new StepCalibration.DecodePoint(8, 1100, 3000)),
        Calibrations.PREFILL)));
    StepTimeModel m = StepTimeModel.of(noisy, 1, null);
    assertEquals(1000, m.decodeMicros(8, 100), 1e-9);
    assertEquals(1000, m.decodeMicros(1, 1100), 1e-9);
    for (int b = 1; b < 20; b++) assertTrue(m.decodeMicros(b + 1, 500) >= m.decodeMicros(b, 500));
  }

  @Test
  void aGraphPathRunsTheBatchPaddedToItsBucket() {
    StepCalibration padded = Calibrations.withTables(0, 0, List.of(new StepCalibration.LayoutTable(1,
        "persistent+graph", true, List.of(new StepCalibration.DecodePoint(1, 100, 1000),
            new StepCalibration.DecodePoint(24, 100, 3300)), Calibrations.PREFILL)));
    StepTimeModel m = StepTimeModel.of(padded, 1, "persistent+graph");
    assertEquals(m.decodeMicros(24, 100), m.decodeMicros(17, 100), 1e-9); // 17 runs as the 24 bucket
    assertEquals(1000 + 2300.0 / 23 * 7, m.decodeMicros(5, 100), 1e-9); // 5 runs as 8
  }

  @Test
  void aTensorParallelReplicaWithoutATableIsTheSingleDeviceStepScaled() {
    StepTimeModel tp = StepTimeModel.of(Calibrations.roundNumbers(0, 0), 2, null);
    // t / (K x efficiency) + 2 x layers x all-reduce = 1000 / 1.6 + 2 x 4 x 5
    assertEquals(1000 / 1.6 + 40, tp.decodeMicros(1, 100), 1e-9);
    assertTrue(tp.describe().contains("scaled to tp=2"), tp.describe());
  }

  @Test
  void aMissingTableIsRefusedSayingWhatTheCalibrationHas() {
    StepCalibration graph = Calibrations.withTables(0, 0, List.of(new StepCalibration.LayoutTable(1, "graph", false,
        Calibrations.DECODE, Calibrations.PREFILL), new StepCalibration.LayoutTable(1, "eager", false,
            Calibrations.DECODE, Calibrations.PREFILL)));
    StepCalibration cuda = new StepCalibration(graph.kind(), graph.device(), "cuda", graph.model(), 16, "", "", null, 0, 0,
        graph.defaults(), graph.layouts(), null, null, List.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> StepTimeModel.of(cuda, 1, "persistent"));
    assertEquals("the calibration has no dp table for decode path persistent (it has [graph, eager])", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> StepTimeModel.of(cuda, 4, "graph"));
  }

  @Test
  void decodePointsThatDoNotFormAGridAreRefused() {
    StepCalibration holes = Calibrations.withTables(0, 0, List.of(new StepCalibration.LayoutTable(1, "cpu", false,
        List.of(new StepCalibration.DecodePoint(1, 100, 1000), new StepCalibration.DecodePoint(8, 1100, 3000)),
        Calibrations.PREFILL)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StepTimeModel.of(holes, 1, null));
    assertTrue(e.getMessage().contains("must form a grid"), e.getMessage());
  }
}
