package io.decodefleet.coordinator.report;

import io.decodefleet.coordinator.metrics.BenchmarkResult;
import io.decodefleet.coordinator.metrics.LatencyStats;
import io.decodefleet.coordinator.metrics.PercentileSpec;
import io.decodefleet.coordinator.metrics.SweepAxis;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import java.util.ArrayList;
import java.util.List;

/**
 * results.csv: one row per sweep point, in the order of the sweep's axis. The first column is the
 * axis ("world_size", "request_rate" or "max_concurrency"; an infinite rate or concurrency is
 * "inf"). Column names match report.json's keys where both have the value ("request_throughput",
 * "p99_ttft_ms", ...); "duration_s" is report.json's "duration". Throughputs are per second,
 * latencies in ms: each metric's mean, std and median, and the percentiles the report asks for
 * ("p99_ttft_ms", see {@link PercentileSpec}); "scaling_efficiency", a fraction (1.0 = linear), is a column of world-size
 * sweeps only; "request_goodput" is empty when no SLOs were given.
 */
final class ResultsCsv {

  private static final List<String> LATENCIES = PercentileSpec.METRICS;

  private ResultsCsv() {}

  static List<String> header(SweepAxis axis) {
    return header(axis, PercentileSpec.DEFAULT);
  }

  static List<String> header(SweepAxis axis, PercentileSpec percentiles) {
    List<String> header = new ArrayList<>(List.of(axis.key(), "completed", "failed",
        "duration_s", "request_throughput", "output_throughput", "total_token_throughput",
        "request_goodput"));
    if (axis == SweepAxis.WORLD_SIZE) {
      header.add("scaling_efficiency");
    }
    for (String latency : LATENCIES) {
      for (String statistic : List.of("mean", "std", "median")) {
        header.add(statistic + "_" + latency + "_ms");
      }
      if (percentiles.covers(latency)) {
        for (double p : percentiles.percentiles()) {
          header.add("p" + PercentileSpec.word(p) + "_" + latency + "_ms");
        }
      }
    }
    return header;
  }

  static String render(SweepReport report) {
    StringBuilder out = new StringBuilder(Csv.line(header(report.axis(), report.percentiles())));
    for (SweepPoint point : report.points()) {
      out.append(Csv.line(row(point, report.percentiles())));
    }
    return out.toString();
  }

  private static List<String> row(SweepPoint point, PercentileSpec percentiles) {
    BenchmarkResult r = point.result();
    List<String> row = new ArrayList<>(List.of(
        point.axis().format(point.axisValue()),
        Integer.toString(r.completed()),
        Integer.toString(r.failed()),
        Csv.number(r.durationSeconds()),
        Csv.number(r.requestThroughput()),
        Csv.number(r.outputTokenThroughput()),
        Csv.number(r.totalTokenThroughput()),
        Csv.number(r.requestGoodput())));
    if (point.axis() == SweepAxis.WORLD_SIZE) {
      row.add(Csv.number(point.scalingEfficiency()));
    }
    List<LatencyStats> all = List.of(r.ttftMs(), r.tpotMs(), r.itlMs(), r.e2eMs());
    for (int i = 0; i < all.size(); i++) {
      LatencyStats stats = all.get(i);
      row.add(Csv.number(stats.mean()));
      row.add(Csv.number(stats.std()));
      row.add(Csv.number(stats.median()));
      if (percentiles.covers(LATENCIES.get(i))) {
        for (double p : percentiles.percentiles()) {
          row.add(Csv.number(stats.percentile(p)));
        }
      }
    }
    return row;
  }
}
