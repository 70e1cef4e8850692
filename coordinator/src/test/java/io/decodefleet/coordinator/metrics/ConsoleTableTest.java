package io.decodefleet.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConsoleTableTest {

  private final String table = ConsoleTable.render(ReportJsonTest.sampleReport(null, null).points().get(0));
  private final List<String> lines = table.lines().toList();

  @Test
  void framedByVllmHeaderAndClosingLine() {
    assertEquals("============ Serving Benchmark Result ============", lines.get(0));
    assertEquals("=".repeat(50), lines.get(lines.size() - 1));
    assertTrue(table.endsWith("\n"));
  }

  @Test
  void summaryRowsHaveLabelsLeftAndFormattedValuesRight() {
    assertRow("Successful requests:", "2");
    assertRow("Failed requests:", "1");
    assertRow("Benchmark duration (s):", "2.00");
    assertRow("Total input tokens:", "30");
    assertRow("Total generated tokens:", "5");
    assertRow("Request throughput (req/s):", "1.00");
    assertRow("Output token throughput (tok/s):", "2.50");
    assertRow("Total token throughput (tok/s):", "17.50");
  }

  @Test
  void latencySectionsShowMeanMedianP90P99InMilliseconds() {
    assertTrue(lines.contains("---------------Time to First Token----------------"), table);
    assertTrue(lines.contains("-----Time per Output Token (excl. 1st token)------"), table);
    assertTrue(lines.contains("---------------Inter-token Latency----------------"), table);
    assertTrue(lines.contains("----------------End-to-end Latency----------------"), table);
    assertRow("Mean TTFT (ms):", "15.00");
    assertRow("Median TTFT (ms):", "15.00");
    assertRow("P90 TTFT (ms):", "19.00");
    assertRow("P99 TTFT (ms):", "19.90");
    assertRow("Mean TPOT (ms):", "8.33");
    assertRow("Mean ITL (ms):", "8.33");
    assertRow("P99 ITL (ms):", "14.90");
    assertRow("P99 E2EL (ms):", "34.85");
  }

  @Test
  void everyMetricHasItsStdAndTheAskedMetricsTheirPercentileRows() {
    assertRow("Std TTFT (ms):", "5.00"); // TTFT 10 and 20
    PercentileSpec spec = PercentileSpec.parse("ttft,itl", "50,99.9");
    SweepReport report = ReportJsonTest.sampleReport(null, null).withPercentiles(spec);
    String custom = ConsoleTable.render(report.points().get(0), spec);
    List<String> rows = custom.lines().toList();
    int ttft = rows.indexOf("---------------Time to First Token----------------");
    assertEquals(List.of("Mean TTFT (ms):", "Std TTFT (ms):", "Median TTFT (ms):", "P50 TTFT (ms):",
        "P99.9 TTFT (ms):"), rows.subList(ttft + 1, ttft + 6).stream().map(l -> l.split("  ")[0]).toList());
    assertTrue(custom.contains("P99.9 ITL (ms):"), custom);
    assertFalse(custom.contains("P90"), custom);
    assertFalse(custom.contains("P50 TPOT"), custom);
    assertTrue(custom.contains("Median E2EL (ms):"), custom);
  }

  @Test
  void agentSectionListsAgentsInNaturalOrder() {
    int header = lines.indexOf("-".repeat(22) + "Agents" + "-".repeat(22));
    assertTrue(header > 0, table);
    assertEquals(String.format("%-26s%10s%14s", "Agent", "Requests", "Output tokens"),
        lines.get(header + 1));
    assertEquals(String.format("%-26s%10s%14s", "agent-1", 1, 4), lines.get(header + 2));
    assertEquals(String.format("%-26s%10s%14s", "agent-2", 1, 1), lines.get(header + 3));
    assertEquals(String.format("%-26s%10s%14s", "agent-10", 0, 0), lines.get(header + 4));
  }

  @Test
  void migrationsAppearOnlyWhenThereWereAny() {
    assertFalse(table.contains("Migrations"), table);
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(1, 5, 8, 0);
    m.tokensArrived(1, "agent-1", 1, 1_000_000);
    m.requestMigrated(1, "agent-1", "agent-2");
    m.tokensArrived(1, "agent-2", 1, 2_000_000);
    m.requestFinished(1, 2_000_000);
    SweepPoint point = SweepPoint.of(2, m.summarize(0, 1_000_000_000), m.requests(), null, null, null);
    assertTrue(ConsoleTable.render(point).lines().toList()
        .contains("Migrations:" + " ".repeat(38) + "1"));
  }

  @Test
  void sweepPointTableStartsWithWorldSizeAndShowsGoodputOnlyWithSlos() {
    SweepReport withSlos = SweepFixture.sweep(SloSpec.parse(List.of("ttft:100")), 1, 2);
    SweepPoint point = withSlos.point(2).orElseThrow();
    List<String> pointLines = ConsoleTable.render(point).lines().toList();
    assertEquals("World size:" + " ".repeat(38) + "2", pointLines.get(1));
    String goodput = ConsoleTable.decimal(point.result().requestGoodput());
    String row = "Request goodput (req/s):";
    assertEquals(row + " ".repeat(50 - row.length() - goodput.length()) + goodput,
        pointLines.get(pointLines.indexOf(pointLines.stream()
            .filter(l -> l.startsWith("Request throughput")).findFirst().orElseThrow()) + 1));

    SweepPoint plain = SweepFixture.sweep(null, 2).points().get(0);
    assertFalse(ConsoleTable.render(plain).contains("goodput"), ConsoleTable.render(plain));
  }

  @Test
  void sweepSummaryHasOneRowPerWorldSizeWithScalingInPercent() {
    SweepReport report = SweepFixture.sweep(null, 4, 1, 2);
    List<String> summary = ConsoleTable.renderSweep(report).lines().toList();
    assertTrue(summary.get(0).contains(" Sweep Summary "), summary.get(0));
    assertEquals(List.of("World", "size", "Req/s", "Output", "tok/s", "Scaling", "TTFT", "p50",
        "TTFT", "p99", "TPOT", "p50", "TPOT", "p99"), List.of(summary.get(1).trim().split(" +")));
    for (int i = 0; i < 3; i++) {
      SweepPoint p = report.points().get(i);
      List<String> cells = List.of(summary.get(2 + i).trim().split(" +"));
      assertEquals(List.of(
          Integer.toString(p.worldSize()),
          ConsoleTable.decimal(p.result().requestThroughput()),
          ConsoleTable.decimal(p.result().outputTokenThroughput()),
          String.format(java.util.Locale.ROOT, "%.1f%%", p.scalingEfficiency() * 100),
          ConsoleTable.decimal(p.result().ttftMs().median()),
          ConsoleTable.decimal(p.result().ttftMs().p99()),
          ConsoleTable.decimal(p.result().tpotMs().median()),
          ConsoleTable.decimal(p.result().tpotMs().p99())), cells);
    }
    assertEquals("100.0%", List.of(summary.get(2).trim().split(" +")).get(3));
    int width = summary.get(0).length();
    for (String line : summary.subList(1, 5)) {
      assertEquals(width, line.length(), line);
    }
  }

  @Test
  void sweepSummaryGetsAGoodputColumnWithSlos() {
    SweepReport report = SweepFixture.sweep(SloSpec.parse(List.of("e2el:150")), 1);
    List<String> summary = ConsoleTable.renderSweep(report).lines().toList();
    assertTrue(summary.get(1).contains("Good req/s"), summary.get(1));
    List<String> cells = List.of(summary.get(2).trim().split(" +"));
    assertEquals(ConsoleTable.decimal(report.points().get(0).result().requestGoodput()),
        cells.get(2)); // after world size and req/s
  }

  @Test
  void decimalsIgnoreTheDefaultLocale() {
    assertEquals("1234.57", ConsoleTable.decimal(1234.567));
    assertEquals("n/a", ConsoleTable.decimal(Double.NaN));
  }

  private void assertRow(String label, String value) {
    String expected = label + " ".repeat(50 - label.length() - value.length()) + value;
    assertTrue(lines.contains(expected), () -> "missing row '" + expected + "' in\n" + table);
  }
}
