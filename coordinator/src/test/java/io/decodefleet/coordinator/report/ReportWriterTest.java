package io.decodefleet.coordinator.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.decodefleet.coordinator.metrics.BenchmarkResult;
import io.decodefleet.coordinator.metrics.MetricsRecorder;
import io.decodefleet.coordinator.metrics.ReportJson;
import io.decodefleet.coordinator.metrics.RequestRecord;
import io.decodefleet.coordinator.metrics.SloSpec;
import io.decodefleet.coordinator.metrics.SweepAxis;
import io.decodefleet.coordinator.metrics.SweepFixture;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportWriterTest {

  private static final SloSpec SLOS = SloSpec.parse(List.of("ttft:150", "tpot:10"));

  @TempDir static Path dir;

  private static SweepReport report;
  private static WrittenReport written;
  private static JsonNode json;

  @BeforeAll
  static void writeAThreePointSweep() throws IOException {
    report = SweepFixture.sweep(SLOS, 1, 2, 4);
    written = ReportWriter.write(report, dir.resolve("sweep"));
    json = ReportJson.read(written.reportJson());
  }

  @Test
  void everyFileIsWrittenUnderItsName() throws IOException {
    Path out = dir.resolve("sweep");
    assertEquals(List.of(out.resolve("report.json"), out.resolve("results.csv"),
        out.resolve("requests.csv"), out.resolve("requests.jsonl"), out.resolve("report.html"),
        out.resolve("throughput.png"), out.resolve("ttft.png"),
        out.resolve("tpot.png"), out.resolve("latency_cdf.png")), written.files());
    for (Path file : written.files()) {
      assertTrue(Files.size(file) > 0, file.toString());
    }
  }

  @Test
  void resultsCsvRowsEqualTheJsonPointsAndTheBenchmarkResults() throws IOException {
    List<List<String>> rows = csv(written.resultsCsv());
    List<String> header = rows.get(0);
    assertEquals(ResultsCsv.header(SweepAxis.WORLD_SIZE), header);
    assertEquals(1 + 3, rows.size());
    for (int i = 0; i < 3; i++) {
      Map<String, String> row = byName(header, rows.get(1 + i));
      JsonNode point = json.get("points").get(i);
      SweepPoint expected = report.points().get(i);
      assertEquals(expected.worldSize(), Integer.parseInt(row.get("world_size")));
      for (String column : header) {
        String key = column.equals("duration_s") ? "duration" : column;
        assertEquals(point.get(key).doubleValue(), Double.parseDouble(row.get(column)), 0,
            "world size " + expected.worldSize() + ", " + column);
      }
      BenchmarkResult r = expected.result();
      assertEquals(r.outputTokenThroughput(), Double.parseDouble(row.get("output_throughput")), 0);
      assertEquals(r.requestGoodput(), Double.parseDouble(row.get("request_goodput")), 0);
      assertEquals(r.tpotMs().p99(), Double.parseDouble(row.get("p99_tpot_ms")), 0);
      assertEquals(expected.scalingEfficiency(),
          Double.parseDouble(row.get("scaling_efficiency")), 0);
    }
    Map<String, String> four = byName(header, rows.get(3));
    assertEquals("4", four.get("world_size"));
    assertEquals("1", four.get("failed"));
  }

  @Test
  void requestsCsvHasEveryRequestOfEveryPointWithItsMeasurements() throws IOException {
    List<List<String>> rows = csv(written.requestsCsv());
    assertEquals(RequestsCsv.header(SweepAxis.WORLD_SIZE), rows.get(0));
    int total = report.points().stream().mapToInt(p -> p.requests().size()).sum();
    assertEquals(3 * SweepFixture.REQUESTS, total);
    assertEquals(1 + total, rows.size());

    int row = 1;
    for (SweepPoint point : report.points()) {
      int completed = 0;
      double ttftSum = 0;
      for (RequestRecord r : point.requests()) {
        Map<String, String> cells = byName(rows.get(0), rows.get(row++));
        assertEquals(point.worldSize(), Integer.parseInt(cells.get("world_size")));
        assertEquals(r.requestId(), Long.parseLong(cells.get("request_id")));
        assertEquals(r.agentId(), cells.get("agent_id"));
        assertEquals(r.promptTokens(), Integer.parseInt(cells.get("prompt_tokens")));
        assertEquals(r.outputTokens(), Integer.parseInt(cells.get("output_tokens")));
        assertEquals(r.completed(), Boolean.parseBoolean(cells.get("completed")));
        assertEquals(r.ttftMs(), Double.parseDouble(cells.get("ttft_ms")), 0);
        assertEquals(r.e2eMs(), Double.parseDouble(cells.get("e2e_ms")), 0);
        assertEquals(Double.isNaN(r.tpotMs()) ? "" : Csv.number(r.tpotMs()), cells.get("tpot_ms"));
        assertEquals(r.failureReason() == null ? "" : r.failureReason(), cells.get("failure"));
        if (r.completed()) {
          completed++;
          ttftSum += Double.parseDouble(cells.get("ttft_ms"));
        }
      }
      JsonNode pointJson = json.get("points").get(report.points().indexOf(point));
      assertEquals(pointJson.get("completed").intValue(), completed);
      assertEquals(pointJson.get("mean_ttft_ms").doubleValue(), ttftSum / completed, 1e-9);
    }
    // The failure reason holds a comma and quotes: it survives quoting intact.
    String text = Files.readString(written.requestsCsv(), StandardCharsets.UTF_8);
    assertTrue(text.contains("\"agent-1 left the cluster, \"\"unreachable\"\"\""), text);
  }

  @Test
  void requestsJsonlHasEveryRequestWithEveryTokensTime() throws IOException {
    List<String> lines = Files.readAllLines(written.requestsJsonl(), StandardCharsets.UTF_8);
    assertEquals(3 * SweepFixture.REQUESTS, lines.size());
    int line = 0;
    for (SweepPoint point : report.points()) {
      long completedTokens = 0;
      for (RequestRecord r : point.requests()) {
        JsonNode o = new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines.get(line++));
        assertEquals(point.worldSize(), o.get("world_size").intValue());
        assertEquals(r.requestId(), o.get("request_id").longValue());
        assertEquals(r.promptTokens(), o.get("prompt_tokens").intValue());
        assertEquals(r.migrations(), o.get("migrations").intValue());
        JsonNode arrivals = o.get("token_arrivals_ms");
        assertEquals(r.outputTokens(), arrivals.size());
        assertEquals(r.outputTokens(), o.get("output_tokens").intValue());
        if (r.completed()) {
          completedTokens += arrivals.size();
          double released = o.get("released_ms").doubleValue();
          assertEquals(o.get("ttft_ms").doubleValue(), arrivals.get(0).doubleValue() - released, 1e-6);
          assertEquals(o.get("e2e_ms").doubleValue(), arrivals.get(arrivals.size() - 1).doubleValue() - released, 1e-6);
          assertTrue(o.get("failure").isNull());
          if (Double.isNaN(r.queueMs())) {
            assertTrue(o.get("queue_ms").isNull());
          } else {
            assertEquals(r.queueMs(), o.get("queue_ms").doubleValue(), 1e-9);
          }
        } else {
          assertEquals(r.failureReason(), o.get("failure").textValue());
        }
      }
      assertEquals(point.result().totalOutputTokens(), completedTokens);
    }
  }

  @Test
  void jsonPointsCarryTheGoodputAndTheSlos() {
    assertEquals(150.0, json.get("goodput").get("ttft").doubleValue());
    for (int i = 0; i < 3; i++) {
      SweepPoint p = report.points().get(i);
      double expected = SLOS.goodRequests(p.requests()) / p.result().durationSeconds();
      assertEquals(expected, json.get("points").get(i).get("request_goodput").doubleValue(), 1e-9);
    }
  }

  @Test
  void chartsArePngsOfTheDocumentedSize() throws IOException {
    assertEquals(4, written.charts().size());
    for (Path chart : written.charts()) {
      BufferedImage image = ImageIO.read(chart.toFile());
      assertNotNull(image, chart + " is not a readable image");
      assertEquals(SweepCharts.WIDTH, image.getWidth(), chart.toString());
      assertEquals(SweepCharts.HEIGHT, image.getHeight(), chart.toString());
      assertTrue(distinctColours(image) > 4, chart + " looks blank");
    }
  }

  @Test
  void aSinglePointWhoseRequestsAllFailedStillGetsEveryFile(@TempDir Path out) throws IOException {
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(1, 8, 8, SweepFixture.ms(0));
    m.requestFailed(1, "no agent could hold the prompt", SweepFixture.ms(1));
    SweepReport failed = new SweepReport("cmd", null, null, "hw", "cpu", "tiny", "t", null,
        List.of(SweepPoint.of(2, m.summarize(SweepFixture.ms(0), SweepFixture.ms(100)),
            m.requests(), null, null, null)));
    WrittenReport files = ReportWriter.write(failed, out);
    for (Path chart : files.charts()) {
      assertEquals(SweepCharts.WIDTH, ImageIO.read(chart.toFile()).getWidth());
    }
    List<List<String>> results = csv(files.resultsCsv());
    Map<String, String> row = byName(results.get(0), results.get(1));
    assertEquals("", row.get("request_goodput"));
    assertEquals("", row.get("scaling_efficiency")); // nothing to scale from
  }

  private static List<List<String>> csv(Path file) throws IOException {
    return CsvReading.parse(Files.readString(file, StandardCharsets.UTF_8));
  }

  private static Map<String, String> byName(List<String> header, List<String> row) {
    assertEquals(header.size(), row.size(), "fields in " + row);
    Map<String, String> cells = new HashMap<>();
    for (int i = 0; i < header.size(); i++) {
      cells.put(header.get(i), row.get(i));
    }
    return cells;
  }

  private static int distinctColours(BufferedImage image) {
    java.util.Set<Integer> colours = new java.util.HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 7) {
      for (int x = 0; x < image.getWidth(); x += 7) {
        colours.add(image.getRGB(x, y));
      }
    }
    return colours.size();
  }
}
