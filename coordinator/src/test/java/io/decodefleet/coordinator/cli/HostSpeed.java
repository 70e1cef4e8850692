package io.decodefleet.coordinator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.decodefleet.agent.cli.GpuAgentCli;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * How much slower this host runs the CPU engine now than when the shipped {@code cpu-tiny} calibration was
 * measured: the step bench's decode step of {@code tiny} (batch 8, context 64) and its prefill of 16 tokens,
 * each over the calibration's own time for that point, and the geometric mean of the two (above 1: slower
 * now). A shared VM's speed changes by the hour (its cores throttled or shared); the simulated-against-real
 * checks divide this out, so that a host slower today does not read as a broken step model, while a model
 * off by a unit or a step still does.
 */
final class HostSpeed {
  private HostSpeed() {}

  /**
   * Simulated over real of report field {@code key}, as on a host {@code slowdown} times slower than
   * the calibration's: a throughput divided by it, a time multiplied.
   */
  static double ratio(String key, double simulated, double real, double slowdown) {
    double ratio = simulated / real;
    return key.endsWith("_throughput") ? ratio / slowdown : ratio * slowdown;
  }

  static double slowdown(Path dir) throws IOException {
    Path out = dir.resolve("host-speed.json");
    int exit = GpuAgentCli.run("bench", "step", "--backend", "cpu", "--model", "tiny", "--batches", "8", "--context",
        "64", "--prefill", "16", "--reps", "30", "--out", out.toString());
    if (exit != 0) throw new IllegalStateException("bench step for the host's speed exited " + exit);
    ObjectMapper json = new ObjectMapper();
    JsonNode now = json.readTree(out.toFile());
    JsonNode calibration;
    try (InputStream in = HostSpeed.class.getResourceAsStream(
        "/io/decodefleet/coordinator/simulation/calibrations/cpu-tiny.json")) {
      calibration = json.readTree(in);
    }
    JsonNode table = calibration.get("layouts").get(0);
    double decodeThen = Double.NaN;
    for (JsonNode p : table.get("decode")) {
      if (p.get("batch").asInt() == 8 && p.get("context").asInt() == 64) decodeThen = p.get("step_us").asDouble();
    }
    double prefillThen = Double.NaN;
    for (JsonNode p : table.get("prefill")) {
      if (p.get("tokens").asInt() == 16) prefillThen = p.get("step_us").asDouble();
    }
    double decodeNow = now.get("decode").get(0).get("wall_us").asDouble();
    double prefillNow = now.get("prefill").get(0).get("ttft_us").asDouble();
    double slowdown = Math.sqrt(decodeNow / decodeThen * (prefillNow / prefillThen));
    if (!(slowdown > 0) || Double.isInfinite(slowdown)) {
      throw new IllegalStateException("no host speed from " + now + " against cpu-tiny's points");
    }
    System.out.printf("host speed: decode %.0f us (calibration %.0f), prefill %.0f us (calibration %.0f): %.2fx slower%n",
        decodeNow, decodeThen, prefillNow, prefillThen, slowdown);
    return slowdown;
  }
}
