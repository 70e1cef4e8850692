package io.decodefleet.coordinator.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.decodefleet.coordinator.metrics.ConsoleTable;
import io.decodefleet.coordinator.metrics.ReportJson;
import io.decodefleet.coordinator.metrics.SweepAxis;
import io.decodefleet.coordinator.metrics.SweepFixture;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reports of sweeps over request rates and concurrencies (client mode): the axis is named everywhere. */
class ClientSweepReportTest {
  private static final double INF = Double.POSITIVE_INFINITY;

  @Test
  void requestRateSweepNamesItsAxisAndEndpointInJsonAndCsvAndHasNoScaling(@TempDir Path dir) throws Exception {
    SweepReport report = SweepFixture.clientSweep(SweepAxis.REQUEST_RATE, INF, 2.5, 10);

    WrittenReport written = ReportWriter.write(report, dir);

    JsonNode json = ReportJson.read(written.reportJson());
    assertEquals("http://127.0.0.1:8000/v1", json.get("client").get("endpoint").textValue());
    assertEquals("m", json.get("client").get("served_model").textValue());
    assertEquals("request_rate", json.get("sweep").get("axis").textValue());
    assertEquals("[2.5,10.0,\"inf\"]", json.get("sweep").get("values").toString(), "sorted, inf last");
    JsonNode inf = json.get("points").get(2);
    assertEquals("inf", inf.get("request_rate").textValue());
    assertFalse(inf.has("world_size"));
    assertFalse(inf.has("scaling_efficiency"));
    assertEquals(2.5, json.get("points").get(0).get("request_rate").doubleValue());

    List<String> results = Files.readAllLines(written.resultsCsv());
    assertEquals(4, results.size());
    assertTrue(results.get(0).startsWith("request_rate,completed,failed,"), results.get(0));
    assertFalse(results.get(0).contains("scaling_efficiency"), results.get(0));
    assertEquals(List.of("2.5", "10", "inf"), results.subList(1, 4).stream().map(r -> r.split(",")[0]).toList());
    List<String> requests = Files.readAllLines(written.requestsCsv());
    assertTrue(requests.get(0).startsWith("request_rate,request_id,"), requests.get(0));
    assertEquals(1 + 3 * SweepFixture.REQUESTS, requests.size());
    assertEquals(9, written.files().size(), "charts too: " + written.chartsSkipped());
  }

  @Test
  void consoleTablesShowTheAxisValueAndTheSummaryHasNoScalingColumn() {
    SweepReport report = SweepFixture.clientSweep(SweepAxis.MAX_CONCURRENCY, 1, 4, INF);

    String table = ConsoleTable.render(report.points().get(2));
    String summary = ConsoleTable.renderSweep(report);

    assertTrue(table.contains("Max concurrency:" + " ".repeat(50 - 16 - 3) + "inf"), table);
    assertTrue(summary.lines().anyMatch(l -> l.startsWith("Max concurrency") && !l.contains("Scaling")), summary);
    assertEquals(List.of("1", "4", "inf"), summary.lines().filter(l -> l.matches(" *(\\d+|inf)  .*"))
        .map(l -> l.trim().split(" +")[0]).toList(), summary);
    assertTrue(summary.contains("Latencies in ms.\n"), summary);
  }

  @Test
  void pointsOffTheWorldSizeAxisHaveNoWorldSizeAndASweepKeepsToOneAxis() {
    SweepReport rates = SweepFixture.clientSweep(SweepAxis.REQUEST_RATE, 1, 2);
    SweepPoint p = rates.points().get(0);

    assertThrows(IllegalStateException.class, p::worldSize);
    assertTrue(Double.isNaN(p.scalingEfficiency()));
    assertTrue(rates.point(1).isEmpty());
    SweepPoint worldSize2 = SweepFixture.point(2);
    IllegalArgumentException mixed = assertThrows(IllegalArgumentException.class, () -> new SweepReport("c", null,
        null, "hw", "endpoint", "m", "t", null, List.of(p, worldSize2)));
    assertTrue(mixed.getMessage().contains("mixes"), mixed.getMessage());
    assertThrows(IllegalArgumentException.class, () -> SweepPoint.on(SweepAxis.MAX_CONCURRENCY, 2.5, p.result(),
        null, null, null, null));
    assertThrows(IllegalArgumentException.class, () -> SweepPoint.on(SweepAxis.REQUEST_RATE, 0, p.result(),
        null, null, null, null));
  }
}
