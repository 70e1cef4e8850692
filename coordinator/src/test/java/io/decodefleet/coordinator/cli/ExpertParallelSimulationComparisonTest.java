package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.decodefleet.coordinator.metrics.ReportJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code simulate --compare-real} of a mixture of experts in the ep=2 layout: one replica of two CPU
 * rank threads splitting tiny-moe's experts, real on the embedded cluster and simulated from the shipped
 * {@code cpu-tiny-moe} calibration's ep=2 table, the real side twice ({@code --real-runs 2}, compared by
 * their median). As {@link SimulationComparisonTest}: both sides run
 * every request to the same tokens, the simulation takes the real engine's steps (its scheduler is the
 * real one), and its times are within a factor of 2.5 of the real run's once this host's speed against
 * the calibration's is divided out ({@code host-speed.json}, {@link HostSlowdown}; CI's cores may be shared; the measured agreement on
 * a quiet host is in docs/simulation.md).
 */
class ExpertParallelSimulationComparisonTest {

  @Test
  void anEp2ReplicaIsSimulatedFromItsOwnTableAndTakesTheRealSteps(@TempDir Path dir) throws Exception {
    int exit = CoordinatorCli.run("simulate", "--compare-real", "--calibration", "cpu-tiny-moe", "--model", "tiny-moe",
        "--layout", "ep=2", "--world-size", "2", "--num-requests", "32", "--seed", "7", "--real-runs", "2",
        "--report-dir", dir.toString(), "--quiet");
    assertEquals(0, exit);
    double slowdown = HostSlowdown.read(dir);
    // Two real runs (--real-runs 2), compared by their median; each ran every request to the same tokens.
    JsonNode real = ReportJson.read(dir.resolve("real-1/report.json")).get("points").get(0);
    JsonNode second = ReportJson.read(dir.resolve("real-2/report.json")).get("points").get(0);
    assertEquals(32, second.get("completed").asInt());
    assertEquals(real.get("total_output_tokens"), second.get("total_output_tokens"));
    JsonNode simulated = ReportJson.read(dir.resolve("simulated/report.json"));
    assertEquals("ep=2 cpu table", simulated.get("simulation").get("table").asText());
    JsonNode s = simulated.get("points").get(0);
    assertEquals(32, real.get("completed").asInt());
    assertEquals(32, s.get("completed").asInt());
    assertEquals(real.get("total_output_tokens"), s.get("total_output_tokens"));
    int realSteps = real.get("engine").get("reported_steps").asInt();
    assertEquals(realSteps, s.get("engine").get("reported_steps").asInt(), 0.05 * realSteps, "engine steps");
    for (String key : List.of("output_throughput", "median_ttft_ms", "median_tpot_ms")) {
      double ratio = HostSlowdown.ratio(key, s.get(key).asDouble(), real.get(key).asDouble(), slowdown);
      assertTrue(ratio > 1 / 2.5 && ratio < 2.5, key + ": simulated " + s.get(key) + " against real " + real.get(key)
          + " on a host " + slowdown + "x slower than the calibration's");
    }
    String table = Files.readString(dir.resolve("comparison.md"));
    assertTrue(table.lines().anyMatch(l -> l.startsWith("| 2 | ") && l.matches(".*\\d ±\\d+% / .*")),
        "the table's ep=2 row, each real figure the median of the two runs with their spread: " + table);
    assertTrue(table.contains("real = the median of 2 real runs"), table);
  }
}
