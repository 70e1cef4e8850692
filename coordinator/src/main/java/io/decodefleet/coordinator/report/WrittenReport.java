package io.decodefleet.coordinator.report;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The files {@link ReportWriter#write} wrote.
 *
 * @param directory the report directory
 * @param reportJson report.json: the whole sweep
 * @param resultsCsv results.csv: one row per sweep point
 * @param requestsCsv requests.csv: one row per request per sweep point
 * @param requestsJsonl requests.jsonl: one JSON object per request per sweep point, with every token's time
 * @param reportHtml report.html: the interactive charts, self-contained
 * @param charts the PNG charts: throughput.png, ttft.png, tpot.png, latency_cdf.png, in that order;
 *     empty when they could not be drawn
 * @param chartsSkipped why the charts could not be drawn (e.g. a host without font libraries), or
 *     null when they were
 */
public record WrittenReport(Path directory, Path reportJson, Path resultsCsv, Path requestsCsv, Path requestsJsonl,
    Path reportHtml, List<Path> charts, String chartsSkipped) {

  public WrittenReport {
    Objects.requireNonNull(directory, "directory");
    charts = List.copyOf(charts);
  }

  /** Every file written: report.json, the two CSV files, requests.jsonl, report.html, then the charts. */
  public List<Path> files() {
    return Stream.concat(Stream.of(reportJson, resultsCsv, requestsCsv, requestsJsonl, reportHtml), charts.stream())
        .toList();
  }
}
