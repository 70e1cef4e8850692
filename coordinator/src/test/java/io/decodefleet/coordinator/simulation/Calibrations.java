package io.decodefleet.coordinator.simulation;

import io.decodefleet.agent.calibration.StepCalibration;
import java.util.List;

/**
 * Hand-made calibrations with round numbers, so a test can work out every step time by hand:
 * decode D(1, 100) = 1000 µs, D(8, 100) = 2000, D(1, 1100) = 2000, D(8, 1100) = 3000 (bilinear);
 * prefill P(100) = 5000, P(200) = 9000, so P(0) = 1000 and P(t) = 1000 + 40 t up to 200 tokens;
 * KV hand-off 100 µs + 0.01 µs per token.
 */
final class Calibrations {
  private Calibrations() {}

  static final List<StepCalibration.DecodePoint> DECODE = List.of(
      new StepCalibration.DecodePoint(1, 100, 1000), new StepCalibration.DecodePoint(8, 100, 2000),
      new StepCalibration.DecodePoint(1, 1100, 2000), new StepCalibration.DecodePoint(8, 1100, 3000));
  static final List<StepCalibration.PrefillPoint> PREFILL = List.of(
      new StepCalibration.PrefillPoint(100, 5000), new StepCalibration.PrefillPoint(200, 9000));

  static StepCalibration roundNumbers(int hostCores, double messageMicros) {
    return withTables(hostCores, messageMicros, List.of(new StepCalibration.LayoutTable(1, "cpu", false, DECODE,
        PREFILL)));
  }

  static StepCalibration withTables(int hostCores, double messageMicros, List<StepCalibration.LayoutTable> tables) {
    return forModel("tiny", hostCores, messageMicros, tables);
  }

  /**
   * tiny-moe with the round-number dp table and an ep=2 table of half its decode and prefill times plus
   * 500 µs (so a step read from the wrong table shows).
   */
  static StepCalibration tinyMoe(int hostCores, boolean withEpTable) {
    List<StepCalibration.LayoutTable> tables = new java.util.ArrayList<>();
    tables.add(new StepCalibration.LayoutTable(1, "cpu", false, DECODE, PREFILL));
    if (withEpTable) {
      tables.add(new StepCalibration.LayoutTable(2, "cpu", false,
          DECODE.stream().map(d -> new StepCalibration.DecodePoint(d.batch(), d.context(), d.stepMicros() / 2 + 500))
              .toList(),
          PREFILL.stream().map(q -> new StepCalibration.PrefillPoint(q.tokens(), q.stepMicros() / 2 + 500)).toList(),
          true));
    }
    return forModel("tiny-moe", hostCores, 0, tables);
  }

  static StepCalibration forModel(String model, int hostCores, double messageMicros,
      List<StepCalibration.LayoutTable> tables) {
    return new StepCalibration(StepCalibration.MEASURED, "test device", "cpu", model, 16, "2026-12-05", "test",
        hostCores == 0 ? null : new StepCalibration.HostSharing(hostCores, 0, 0, 1, ""), messageMicros, messageMicros,
        new StepCalibration.EngineDefaults(1000, 8, 512, false), tables,
        new StepCalibration.KvTransferCost(100, 1000, 10), new StepCalibration.TensorParallelScaling(0.8, 5, 4),
        List.of());
  }
}
