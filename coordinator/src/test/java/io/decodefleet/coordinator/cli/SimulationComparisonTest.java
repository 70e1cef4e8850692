package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.decodefleet.coordinator.metrics.ReportJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code simulate --compare-real} at the CPU world sizes 1, 2, 4 and 8: the same workload runs on the
 * embedded CPU cluster and in the simulation with the shipped CPU calibration, and the table puts them
 * side by side. The real run's timing varies with whatever else this machine runs, so this checks the
 * comparison itself (same requests and tokens on both sides, the table's numbers are the reports') and
 * holds the simulation only to within a factor of 3 of the real run — a broken step model (a unit off,
 * a missed step) is far outside that. The 10 % / 25 % targets are not held here: they have not
 * been shown on this project's shared machines (docs/simulation.md has the one comparison made).
 */
class SimulationComparisonTest {
  @TempDir
  static Path dir;
  private static int exitCode;

  @BeforeAll
  static void compare() {
    // 64 requests of the default lengths, all at once: long enough (seconds per world size) that the first
    // second's costs do not decide the real side's numbers.
    exitCode = CoordinatorCli.run("simulate", "--compare-real", "--calibration", "cpu-tiny", "--world-sizes",
        "1,2,4,8", "--num-requests", "64", "--seed", "7", "--report-dir", dir.toString(), "--quiet");
  }

  @Test
  void bothSidesRanEveryRequestWithTheSameTokensAndOnlyOneSaysSimulated() throws Exception {
    assertEquals(0, exitCode);
    JsonNode real = ReportJson.read(dir.resolve("real/report.json"));
    JsonNode simulated = ReportJson.read(dir.resolve("simulated/report.json"));
    assertFalse(real.has("simulated"));
    assertTrue(simulated.get("simulated").asBoolean());
    for (int i = 0; i < 4; i++) {
      JsonNode r = real.get("points").get(i);
      JsonNode s = simulated.get("points").get(i);
      assertEquals(List.of(1, 2, 4, 8).get(i), r.get("world_size").asInt());
      assertEquals(r.get("world_size"), s.get("world_size"));
      assertEquals(64, r.get("completed").asInt());
      assertEquals(64, s.get("completed").asInt());
      assertEquals(r.get("total_input_tokens"), s.get("total_input_tokens"));
      assertEquals(r.get("total_output_tokens"), s.get("total_output_tokens"));
    }
  }

  @Test
  void theTableHoldsTheReportsNumbersAndTheSimulationIsWithinAFactorOfThree() throws Exception {
    List<String> lines = Files.readAllLines(dir.resolve("comparison.md"));
    List<String> rows = lines.stream().filter(l -> l.matches("\\| \\d+ \\|.*")).toList();
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("During the real run other processes kept ")),
        "the table says how busy the host was: " + lines);
    assertEquals(4, rows.size(), String.join("\n", rows));
    JsonNode real = ReportJson.read(dir.resolve("real/report.json"));
    JsonNode simulated = ReportJson.read(dir.resolve("simulated/report.json"));
    for (int i = 0; i < 4; i++) {
      String[] cells = rows.get(i).split("\\|");
      String[] throughput = cells[2].trim().split(" / ");
      String[] ttft = cells[3].trim().split(" / ");
      JsonNode r = real.get("points").get(i);
      JsonNode s = simulated.get("points").get(i);
      assertEquals(format(r.get("output_throughput").asDouble()), throughput[0]);
      assertEquals(format(s.get("output_throughput").asDouble()), throughput[1]);
      assertEquals(format(r.get("median_ttft_ms").asDouble()), ttft[0]);
      assertEquals(format(s.get("median_ttft_ms").asDouble()), ttft[1]);
      for (String key : List.of("output_throughput", "median_ttft_ms", "median_tpot_ms")) {
        double ratio = s.get(key).asDouble() / r.get(key).asDouble();
        assertTrue(ratio > 1 / 3.0 && ratio < 3, "world size " + r.get("world_size") + " " + key + ": simulated "
            + s.get(key) + " against real " + r.get(key));
      }
    }
  }

  private static String format(double v) {
    return String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
  }
}
