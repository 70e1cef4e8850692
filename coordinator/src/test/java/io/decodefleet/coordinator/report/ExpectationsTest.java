package io.decodefleet.coordinator.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.coordinator.metrics.BenchmarkResult;
import io.decodefleet.coordinator.metrics.SweepFixture;
import io.decodefleet.coordinator.metrics.SweepReport;
import io.decodefleet.coordinator.report.Expectation.Direction;
import io.decodefleet.coordinator.report.MetricVerdict.Verdict;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExpectationsTest {

  @TempDir Path dir;

  /** World sizes 1 and 4 of the fixture sweep, without SLOs: request_goodput is null. */
  private static final SweepReport REPORT = SweepFixture.sweep(null, 1, 4);

  private static final BenchmarkResult ONE = REPORT.point(1).orElseThrow().result();
  private static final BenchmarkResult FOUR = REPORT.point(4).orElseThrow().result();

  private Expectations load(String json) throws IOException {
    Path file = dir.resolve("expectations.json");
    Files.writeString(file, json);
    return Expectations.load(file);
  }

  private static String entry(String metric, double expected, String direction, String tolerance) {
    return String.format(Locale.ROOT, "\"%s\": {\"expected\": %s, \"direction\": \"%s\"%s}",
        metric, Double.toString(expected), direction,
        tolerance == null ? "" : ", \"tolerance\": " + tolerance);
  }

  @Test
  void verdictsFollowDirectionAndTolerance() throws IOException {
    double thr4 = FOUR.outputTokenThroughput();
    double p99 = FOUR.ttftMs().p99();
    Expectations e = load("{\"description\": \"fixture\", \"metrics\": {\"4\": {"
        // higher is better, 10 % band
        + entry("output_throughput", thr4 / 1.2, "higher", "0.1") + ", "   // 20 % above: improved
        + entry("request_throughput", FOUR.requestThroughput() * 1.05, "higher", "0.1") + ", "
        + entry("total_token_throughput", FOUR.totalTokenThroughput() / 0.8, "higher", "0.1")
        + ", "
        // lower is better, default 25 % band
        + entry("p99_ttft_ms", p99 * 1.5, "lower", null) + ", "       // 33 % below: improved
        + entry("median_tpot_ms", FOUR.tpotMs().median() * 0.9, "lower", null) + ", " // met
        + entry("mean_e2el_ms", FOUR.e2eMs().mean() / 1.3, "lower", null) // 30 % above: regressed
        + "}}}");
    List<MetricVerdict> verdicts = e.compare(REPORT);
    assertEquals(List.of(Verdict.IMPROVED, Verdict.MET, Verdict.REGRESSED, Verdict.IMPROVED,
        Verdict.MET, Verdict.REGRESSED), verdicts.stream().map(MetricVerdict::verdict).toList());
    assertEquals(thr4, verdicts.get(0).actual(), 0);
    assertEquals(0.1, verdicts.get(0).tolerance(), 0);
    assertEquals(Expectation.DEFAULT_TOLERANCE, verdicts.get(3).tolerance(), 0);
    assertEquals(Direction.LOWER, verdicts.get(3).direction());
    assertTrue(Expectations.anyRegressed(verdicts));
    assertEquals("fixture", e.description());
  }

  @Test
  void defaultToleranceIsTwentyFivePercentWithBoundsCountingAsMet() {
    Expectation higher = new Expectation(1, "output_throughput", 100, Direction.HIGHER, null);
    assertEquals(Verdict.MET, higher.judge(75).verdict());
    assertEquals(Verdict.REGRESSED, higher.judge(74.9).verdict());
    assertEquals(Verdict.MET, higher.judge(125).verdict());
    assertEquals(Verdict.IMPROVED, higher.judge(125.1).verdict());
    Expectation lower = new Expectation(1, "p99_ttft_ms", 100, Direction.LOWER, null);
    assertEquals(Verdict.REGRESSED, lower.judge(125.1).verdict());
    assertEquals(Verdict.MET, lower.judge(125).verdict());
    assertEquals(Verdict.IMPROVED, lower.judge(74.9).verdict());
    assertEquals(Verdict.MISSING, lower.judge(Double.NaN).verdict());
  }

  @Test
  void missingPointMetricOrValueIsMissingNotRegressed() throws IOException {
    Expectations e = load("{\"metrics\": {"
        + "\"8\": {" + entry("output_throughput", 650, "higher", null) + "},"
        + "\"1\": {" + entry("no_such_metric", 1, "higher", null) + ", "
        + entry("request_goodput", 1, "higher", null) + ", "  // null without SLOs
        + entry("engine", 1, "higher", null) + ", "           // an object, not a number
        + entry("output_throughput", ONE.outputTokenThroughput(), "higher", null) + "}}}");
    List<MetricVerdict> verdicts = e.compare(REPORT);
    assertEquals(List.of(Verdict.MISSING, Verdict.MISSING, Verdict.MISSING, Verdict.MISSING,
        Verdict.MET), verdicts.stream().map(MetricVerdict::verdict).toList());
    assertTrue(Double.isNaN(verdicts.get(0).actual()));
    assertFalse(Expectations.anyRegressed(verdicts));
    assertNull(e.description());
  }

  @Test
  void scalingEfficiencyAndTheBaseWorldSizeCanBeExpected() throws IOException {
    Expectations e = load("{\"metrics\": {\"4\": {"
        + entry("scaling_efficiency", 0.5, "higher", "0.2") + "}}}");
    MetricVerdict v = e.compare(REPORT).get(0);
    assertEquals(REPORT.point(4).orElseThrow().scalingEfficiency(), v.actual(), 0);
  }

  @Test
  void improvementsReplaceOnlyImprovedValuesAndRoundTripThroughTheFile() throws IOException {
    double thr4 = FOUR.outputTokenThroughput();
    Expectations e = load("{\"description\": \"ci\", \"metrics\": {"
        + "\"4\": {" + entry("output_throughput", thr4 / 2, "higher", "0.1") + ", "
        + entry("p99_ttft_ms", FOUR.ttftMs().p99(), "lower", null) + "},"
        + "\"1\": {" + entry("p99_ttft_ms", ONE.ttftMs().p99() / 2, "lower", null) + "}}}");
    List<MetricVerdict> verdicts = e.compare(REPORT);
    assertEquals(List.of(Verdict.IMPROVED, Verdict.MET, Verdict.REGRESSED),
        verdicts.stream().map(MetricVerdict::verdict).toList());

    Expectations raised = e.withImprovements(verdicts);
    assertEquals(thr4, raised.expectations().get(0).expected(), 0);
    assertEquals(e.expectations().get(1), raised.expectations().get(1));
    assertEquals(e.expectations().get(2), raised.expectations().get(2)); // regressions stay
    assertEquals(0.1, raised.expectations().get(0).tolerance(), 0);
    assertEquals(List.of(Verdict.MET, Verdict.MET, Verdict.REGRESSED),
        raised.compare(REPORT).stream().map(MetricVerdict::verdict).toList());

    Path file = dir.resolve("updated/expectations.json");
    raised.write(file);
    Expectations reread = Expectations.load(file);
    assertEquals(raised, reread);
    String text = Files.readString(file);
    assertTrue(text.indexOf("\"4\"") < text.indexOf("\"1\""), text); // file order kept
    assertEquals(1, text.split("tolerance", -1).length - 1, text); // only where it was given
    Path again = dir.resolve("again.json");
    reread.write(again);
    assertEquals(text, Files.readString(again)); // stable bytes
  }

  @Test
  void verdictTableListsEveryVerdictAndTheCounts() {
    List<MetricVerdict> verdicts = List.of(
        new Expectation(8, "output_throughput", 650, Direction.HIGHER, null).judge(700),
        new Expectation(8, "p99_ttft_ms", 3800, Direction.LOWER, 0.1).judge(4500),
        new Expectation(2, "scaling_efficiency", 0.9, Direction.HIGHER, null).judge(Double.NaN));
    List<String> lines = VerdictTable.render(verdicts).lines().toList();
    assertEquals(5, lines.size());
    assertTrue(lines.get(0).startsWith("World size  Metric"), lines.get(0));
    assertEquals(List.of("8", "output_throughput", "650.00", "700.00", "+7.7%", "higher", "25%",
        "MET"), List.of(lines.get(1).trim().split(" +")));
    assertEquals(List.of("8", "p99_ttft_ms", "3800.00", "4500.00", "+18.4%", "lower", "10%",
        "REGRESSED"), List.of(lines.get(2).trim().split(" +")));
    assertEquals(List.of("2", "scaling_efficiency", "0.900", "n/a", "n/a", "higher", "25%",
        "MISSING"), List.of(lines.get(3).trim().split(" +")));
    assertEquals("0 improved, 1 met, 1 regressed, 1 missing", lines.get(4));
  }

  @Test
  void badFilesAreRejectedNamingTheFileAndTheKey() throws IOException {
    assertBad("{\"metrics\": {\"8\": {\"output_throughput\": {\"expected\": 650}}}}",
        "metrics.8.output_throughput.direction must be \"higher\" or \"lower\", got nothing");
    assertBad("{\"metrics\": {\"8\": {\"output_throughput\": "
        + "{\"expected\": 650, \"direction\": \"up\"}}}}",
        "metrics.8.output_throughput.direction must be \"higher\" or \"lower\", got \"up\"");
    assertBad("{\"metrics\": {\"8\": {\"output_throughput\": "
        + "{\"expected\": \"fast\", \"direction\": \"higher\"}}}}",
        "metrics.8.output_throughput.expected must be a number");
    assertBad("{\"metrics\": {\"8\": {\"p99_ttft_ms\": "
        + "{\"expected\": 1, \"direction\": \"lower\", \"tolerance\": -0.1}}}}",
        "metrics.8.p99_ttft_ms.tolerance must be a number >= 0");
    assertBad("{\"metrics\": {\"8\": {\"p99_ttft_ms\": "
        + "{\"expected\": 1, \"direction\": \"lower\", \"tolerence\": 0.1}}}}",
        "metrics.8.p99_ttft_ms.tolerence is not a known key");
    assertBad("{\"metrics\": {\"eight\": {}}}", "metrics.eight is not a world size");
    assertBad("{\"metrics\": {\"0\": {}}}", "metrics.0 is not a world size");
    assertBad("{\"metric\": {}}", "metric is not a known key");
    assertBad("{\"description\": \"x\"}", "metrics must be an object keyed by world size");
    assertBad("{\"metrics\": {\"8\": {\"p99_ttft_ms\": 3800}}}",
        "metrics.8.p99_ttft_ms must be an object");
    assertBad("{\"metrics\": {\"8\": {}, \"8\": {}}}", "not valid JSON at line 1");
    assertBad("{\"metrics\": {", "not valid JSON at line 1");
    assertBad("[]", "must be a JSON object");
  }

  private void assertBad(String json, String why) throws IOException {
    Path file = dir.resolve("bad.json");
    Files.writeString(file, json);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Expectations.load(file));
    String message = e.getMessage();
    assertTrue(message.startsWith("expectations file " + file + ": "), message);
    assertTrue(message.contains(why), message);
    assertFalse(message.contains("\n"), message);
  }
}
