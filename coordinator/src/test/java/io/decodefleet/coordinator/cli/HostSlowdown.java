package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The simulated-against-real checks' use of {@code host-speed.json}, which {@code simulate --compare-real}
 * writes for a CPU calibration ({@link io.decodefleet.coordinator.simulation.HostSpeed}): how much slower
 * this host ran two of the calibration's points than the calibration says. A shared VM's speed changes by
 * the hour; the checks divide it out, so that a host slower today does not read as a broken step model,
 * while a model off by a unit or a step still does.
 */
final class HostSlowdown {
  private HostSlowdown() {}

  /** The slowdown that the comparison in {@code dir} measured (above 1: this host slower than the calibration's). */
  static double read(Path dir) throws IOException {
    JsonNode speed = new ObjectMapper().readTree(dir.resolve("host-speed.json").toFile());
    double slowdown = speed.get("slowdown").asDouble();
    assertTrue(slowdown > 0 && Double.isFinite(slowdown), speed.toString());
    System.out.println("host speed: " + speed);
    return slowdown;
  }

  /**
   * Simulated over real of report field {@code key}, as on a host {@code slowdown} times slower than
   * the calibration's: a throughput divided by it, a time multiplied.
   */
  static double ratio(String key, double simulated, double real, double slowdown) {
    double ratio = simulated / real;
    return key.endsWith("_throughput") ? ratio / slowdown : ratio * slowdown;
  }
}
