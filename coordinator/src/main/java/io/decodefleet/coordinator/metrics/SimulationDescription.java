package io.decodefleet.coordinator.metrics;

import java.util.List;
import java.util.Objects;

/**
 * What a simulated sweep ({@code coordinator simulate}) modelled instead of running: report.json's
 * "simulation" (beside {@code "simulated": true}), a line of the console output and the HTML page's label.
 *
 * @param calibration the calibration file the step times came from
 * @param kind "measured" or "projection" (computed from published peak rates, not timed on the device)
 * @param device the device the calibration describes
 * @param calibrationDate when it was measured or projected
 * @param table which of its tables the steps read (e.g. "dp cpu table")
 * @param engine the engine settings every simulated agent ran with, defaults resolved
 * @param failures agents lost on the virtual clock (e.g. "agent-3@12.000s"), in the order given
 */
public record SimulationDescription(String calibration, String kind, String device, String calibrationDate,
    String table, String engine, List<String> failures) {
  public SimulationDescription {
    Objects.requireNonNull(calibration, "calibration");
    Objects.requireNonNull(kind, "kind");
    failures = List.copyOf(failures);
  }

  /** Whether the calibration is a projection rather than a measurement. */
  public boolean projection() {
    return "projection".equals(kind);
  }

  /** One line for the console and the page: "SIMULATED on <device> (<kind> calibration <file>)". */
  public String headline() {
    return "SIMULATED on " + device + " (" + (projection() ? "PROJECTION: " : "") + kind + " calibration " + calibration
        + ", " + table + "); no request ran on a device";
  }
}
