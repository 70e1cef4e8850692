package io.decodefleet.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConsoleTableTest {

  private final String table = ConsoleTable.render(ReportJsonTest.sampleReport(null));
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
    RunReport report = new RunReport("cmd", null, "hw", "cuda", "m", 2,
        m.summarize(0, 1_000_000_000), null, null, "2025-06-01T12:00:00Z");
    assertTrue(ConsoleTable.render(report).lines().toList()
        .contains("Migrations:" + " ".repeat(38) + "1"));
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
