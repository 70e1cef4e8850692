package io.decodefleet.coordinator.report;

import io.decodefleet.coordinator.metrics.ReportJson;
import io.decodefleet.coordinator.metrics.SweepReport;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a sweep's report directory:
 *
 * <pre>
 * report.json       the whole sweep, vLLM --save-result key names per point ({@link ReportJson})
 * results.csv       one row per point (world size, request rate or max concurrency)
 * requests.csv      one row per request per point
 * requests.jsonl    one JSON object per request per point, with every token's arrival time
 * report.html       interactive charts of all of it, one self-contained page ({@link ReportHtml})
 * throughput.png    output tokens/s and requests/s against the sweep's axis
 * ttft.png          TTFT P50/P90/P99 against the sweep's axis
 * tpot.png          TPOT P50/P90/P99 against the sweep's axis
 * latency_cdf.png   E2E latency CDF, one curve per point
 * </pre>
 *
 * <p>Text files are UTF-8; existing files of these names are replaced. The data files are written
 * before the charts, so a chart that cannot be drawn leaves the numbers on disk.
 */
public final class ReportWriter {

  static final String REPORT_JSON = "report.json";
  static final String RESULTS_CSV = "results.csv";
  static final String REQUESTS_CSV = "requests.csv";
  static final String REQUESTS_JSONL = "requests.jsonl";
  static final String REPORT_HTML = "report.html";

  private ReportWriter() {}

  /**
   * Writes every file of {@code report} into {@code dir}, creating it.
   *
   * @return the paths written
   * @throws IOException naming the data file that could not be written (a chart that cannot be drawn
   *     is reported in {@link WrittenReport#chartsSkipped()} instead)
   */
  public static WrittenReport write(SweepReport report, Path dir) throws IOException {
    Files.createDirectories(dir);
    Path json = dir.resolve(REPORT_JSON);
    ReportJson.write(report, json);
    Path results = dir.resolve(RESULTS_CSV);
    Files.writeString(results, ResultsCsv.render(report), StandardCharsets.UTF_8);
    Path requests = dir.resolve(REQUESTS_CSV);
    try (Writer out = Files.newBufferedWriter(requests, StandardCharsets.UTF_8)) {
      RequestsCsv.write(report, out);
    }
    Path jsonl = dir.resolve(REQUESTS_JSONL);
    try (Writer out = Files.newBufferedWriter(jsonl, StandardCharsets.UTF_8)) {
      RequestsJsonl.write(report, out);
    }
    Path html = dir.resolve(REPORT_HTML);
    Files.writeString(html, ReportHtml.render(report), StandardCharsets.UTF_8);
    try {
      return new WrittenReport(dir, json, results, requests, jsonl, html, SweepCharts.write(report, dir), null);
    } catch (IOException e) {
      // The numbers are on disk; a host that cannot draw (no font libraries) still gets them.
      return new WrittenReport(dir, json, results, requests, jsonl, html, List.of(), e.getMessage());
    }
  }
}
