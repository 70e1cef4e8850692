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
 * side by side. This checks the comparison itself (same requests and tokens on both sides, the table's
 * numbers are the reports') and the model's agreement with the real run in two ways:
 *
 * <ul>
 *   <li>the engine steps: the simulation runs the real scheduler on the same requests, so it must take the
 *       same steps as the real engines, whatever the host's load (the real and simulated counts have been
 *       within 1 % of each other on a quiet host and at a load average of 18; a missed or extra step per
 *       request, or a wrong token budget, is 10 % or more here);
 *   <li>the timings, within a factor of 2.5 once this host's speed today against the calibration's day is
 *       divided out ({@code host-speed.json}, {@link HostSlowdown}: the same VM has run the step bench twice as slowly an hour apart). Not
 *       the 10 % / 25 % targets: the real side's times are whatever this machine leaves the cluster,
 *       and CI's 2 cores may be shared with other builds. On this project's 2-core VM, the real run was at
 *       most 2.2 times slower than the simulation with others' builds keeping the load average at 18
 *       (docs/simulation.md); on a quiet host the two are within 0–35 %. A broken step model (a unit off,
 *       steps not shared between agents) is far outside 2.5.
 * </ul>
 */
class SimulationComparisonTest {
  @TempDir
  static Path dir;
  private static int exitCode;
  private static double slowdown;

  @BeforeAll
  static void compare() throws Exception {
    // 64 requests of the default lengths, all at once: long enough (seconds per world size) that the first
    // second's costs do not decide the real side's numbers.
    exitCode = CoordinatorCli.run("simulate", "--compare-real", "--calibration", "cpu-tiny", "--world-sizes",
        "1,2,4,8", "--num-requests", "64", "--seed", "7", "--report-dir", dir.toString(), "--quiet");
    slowdown = HostSlowdown.read(dir);
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
  void theTableHoldsTheReportsNumbersAndTheSimulationTakesTheRealStepsWithinAFactorOf2Point5OfItsTimes() throws Exception {
    List<String> lines = Files.readAllLines(dir.resolve("comparison.md"));
    List<String> rows = lines.stream().filter(l -> l.matches("\\| \\d+ \\|.* %.*")).toList();
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("During the real run other processes kept ")),
        "the table says how busy the host was: " + lines);
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("This host ran tiny's decode step (batch 8, context 64) in ")
        && l.contains("16-token prefill") && l.contains("x the time of the host and hour cpu-tiny was measured on; ")
        && l.contains("x after it (")), "the table says how fast this host was before and after the run: " + lines);
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
      int realSteps = r.get("engine").get("reported_steps").asInt();
      int simulatedSteps = s.get("engine").get("reported_steps").asInt();
      assertEquals(realSteps, simulatedSteps, 0.05 * realSteps, "world size " + r.get("world_size") + " engine steps");
      for (String key : List.of("output_throughput", "median_ttft_ms", "median_tpot_ms")) {
        double ratio = HostSlowdown.ratio(key, s.get(key).asDouble(), r.get(key).asDouble(), slowdown);
        assertTrue(ratio > 1 / 2.5 && ratio < 2.5, "world size " + r.get("world_size") + " " + key + ": simulated "
            + s.get(key) + " against real " + r.get(key) + String.format(Locale.ROOT, " on a host %.2fx slower than"
            + " the calibration's", slowdown));
      }
    }
  }

  @Test
  void theSecondTableSplitsEachSidesTtftAndTheRealReleasesKeepToTheSchedule() throws Exception {
    List<String> lines = Files.readAllLines(dir.resolve("comparison.md"));
    List<String> rows = lines.stream().filter(l -> l.matches("\\| \\d+ \\|.*") && !l.contains("%")).toList();
    assertEquals(4, rows.size(), String.join("\n", lines));
    for (String row : rows) {
      String[] cells = row.split("\\|");
      String[] queue = cells[2].trim().split(" / ");
      String[] prefill = cells[3].trim().split(" / ");
      String[] messages = cells[4].trim().split(" / ");
      String[] release = cells[5].trim().split(" / ");
      // The real agents measured a queue and a prefill for every request; the simulated ones too, and
      // their messages take cpu-tiny's dispatch and report times: 0.
      assertTrue(Double.parseDouble(queue[0]) >= 0 && Double.parseDouble(prefill[0]) > 0, row);
      assertTrue(Double.parseDouble(queue[1]) >= 0 && Double.parseDouble(prefill[1]) > 0, row);
      assertEquals(0.0, Double.parseDouble(messages[1]), 0.005, row);
      assertTrue(Double.parseDouble(messages[0]) >= 0, row);
      // All 64 requests are due at once: the real run releases them at its start, never before.
      double p50 = Double.parseDouble(release[0]);
      assertTrue(p50 >= 0 && Double.parseDouble(release[1]) >= p50, row);
    }
  }

  private static String format(double v) {
    return String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
  }
}
