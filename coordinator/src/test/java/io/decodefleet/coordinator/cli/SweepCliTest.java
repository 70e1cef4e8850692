package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.decodefleet.coordinator.metrics.ReportJson;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A whole sweep 1,2,4,8 on the embedded CPU cluster, read back from the files it writes. */
class SweepCliTest {
  @TempDir
  static Path dir;
  private static int exitCode;

  @BeforeAll
  static void sweep() {
    exitCode = CoordinatorCli.run("--world-sizes", "1,2,4,8", "--num-requests", "16", "--prompt-len", "16:64",
        "--output-len", "4:16", "--seed", "3", "--goodput", "ttft:60000", "tpot:5000", "--report-dir", dir.toString(),
        "--quiet");
  }

  @Test
  void sweepSucceedsAndWritesEveryFile() {
    assertEquals(0, exitCode);
    for (String f : List.of("report.json", "results.csv", "requests.csv", "throughput.png", "ttft.png", "tpot.png",
        "latency_cdf.png")) {
      assertTrue(Files.isRegularFile(dir.resolve(f)), f);
    }
  }

  @Test
  void jsonAndCsvAgreePointByPoint() throws Exception {
    JsonNode report = ReportJson.read(dir.resolve("report.json"));
    JsonNode points = report.get("points");
    assertEquals(4, points.size());
    List<String> rows = Files.readAllLines(dir.resolve("results.csv"));
    String[] header = rows.get(0).split(",");
    assertEquals(5, rows.size());
    for (int i = 0; i < 4; i++) {
      JsonNode p = points.get(i);
      Map<String, String> row = new HashMap<>();
      String[] cells = rows.get(i + 1).split(",", -1);
      for (int c = 0; c < header.length; c++) row.put(header[c], cells[c]);
      assertEquals(List.of(1, 2, 4, 8).get(i), p.get("world_size").asInt());
      assertEquals(p.get("world_size").asText(), row.get("world_size"));
      assertEquals(16, p.get("completed").asInt());
      for (String metric : List.of("request_throughput", "output_throughput", "median_ttft_ms", "p99_tpot_ms",
          "scaling_efficiency", "request_goodput")) {
        assertEquals(p.get(metric).asDouble(), Double.parseDouble(row.get(metric)), 1e-9 * Math.abs(p.get(metric)
            .asDouble()) + 1e-12, metric + " at world size " + p.get("world_size"));
      }
      double thr = p.get("total_output_tokens").asDouble() / p.get("duration").asDouble();
      assertEquals(thr, p.get("output_throughput").asDouble(), 1e-6 * thr);
      assertEquals(p.get("world_size").asInt(), p.get("agents").size());
      // Every request met the generous SLOs: goodput equals request throughput.
      assertEquals(p.get("request_throughput").asDouble(), p.get("request_goodput").asDouble(), 1e-9);
    }
    double base = points.get(0).get("output_throughput").asDouble();
    JsonNode p8 = points.get(3);
    assertEquals(p8.get("output_throughput").asDouble() / (8 * base), p8.get("scaling_efficiency").asDouble(), 1e-9);
  }

  @Test
  void requestsCsvHasOneRowPerRequestPerPointAndMatchesTheTokenTotals() throws Exception {
    List<String> rows = Files.readAllLines(dir.resolve("requests.csv"));
    assertEquals(1 + 4 * 16, rows.size());
    JsonNode points = ReportJson.read(dir.resolve("report.json")).get("points");
    for (JsonNode p : points) {
      int ws = p.get("world_size").asInt();
      long tokens = rows.stream().skip(1).map(r -> r.split(",", -1)).filter(c -> Integer.parseInt(c[0]) == ws)
          .mapToLong(c -> Long.parseLong(c[4])).sum();
      assertEquals(p.get("total_output_tokens").asLong(), tokens, "world size " + ws);
    }
  }

  @Test
  void sameSeedGivesTheSameOutputLengthsAtEveryWorldSize() throws Exception {
    List<String> rows = Files.readAllLines(dir.resolve("requests.csv"));
    Map<String, String> lengthById = new HashMap<>();
    for (String r : rows.subList(1, rows.size())) {
      String[] c = r.split(",", -1);
      String previous = lengthById.putIfAbsent(c[1], c[3] + "/" + c[4]);
      if (previous != null) assertEquals(previous, c[3] + "/" + c[4], "request " + c[1]);
    }
    assertEquals(16, lengthById.size());
  }

  @Test
  void chartsAreValidPngsOfTheDocumentedSize() throws Exception {
    for (String f : List.of("throughput.png", "ttft.png", "tpot.png", "latency_cdf.png")) {
      BufferedImage image = ImageIO.read(dir.resolve(f).toFile());
      assertNotNull(image, f);
      assertEquals(io.decodefleet.coordinator.report.SweepCharts.WIDTH, image.getWidth(), f);
      assertEquals(io.decodefleet.coordinator.report.SweepCharts.HEIGHT, image.getHeight(), f);
    }
  }
}
