package io.decodefleet.coordinator.cli;

import io.decodefleet.coordinator.metrics.PercentileSpec;
import io.decodefleet.coordinator.metrics.SloSpec;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** Where a run's reports go and what they hold: goodput SLOs, percentiles, expectations, how much is printed. */
final class ReportOptions {
  @Option(names = "--report-dir", description = "Where report.json, results.csv, requests.csv and the charts go "
      + "(default: runs/<timestamp>).")
  Path reportDir;

  @Option(names = "--goodput", arity = "1..*", description = "SLOs for goodput, e.g. --goodput ttft:500 tpot:50 "
      + "itl:200 e2el:2000 (ms; itl bounds a request's largest gap between tokens); a request counts only if it "
      + "meets every one.")
  List<String> goodput;

  @Option(names = "--percentile-metrics", paramLabel = "METRICS", description = "Latency metrics that get "
      + "percentiles, comma-separated, of ttft, tpot, itl, e2el (default: ttft,tpot,itl,e2el; vLLM's default is "
      + "ttft,tpot,itl). Every metric has its mean, std and median.")
  String percentileMetrics;

  @Option(names = "--metric-percentiles", paramLabel = "P", description = "The percentiles of those metrics, "
      + "comma-separated, each in [0, 100], e.g. 50,90,95,99 (default: 90,99, what DecodeFleet has always "
      + "reported; vLLM's default is 99).")
  String metricPercentiles;

  @Option(names = "--expectations", description = "Compare the results with this expectations file; exit 1 on any "
      + "regression.")
  Path expectations;

  @Option(names = "--update-expectations", description = "Write improved values back into the expectations file.")
  boolean updateExpectations;

  @Option(names = "--quiet", description = "Print only the path of the report.")
  boolean quiet;

  /** --percentile-metrics and --metric-percentiles, checked by {@link #checkPercentiles}. */
  PercentileSpec percentiles = PercentileSpec.DEFAULT;

  /** Parses --percentile-metrics and --metric-percentiles into {@link #percentiles}. */
  void checkPercentiles() {
    try {
      percentiles = PercentileSpec.parse(percentileMetrics, metricPercentiles);
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage());
    }
  }

  /** --goodput, parsed: SloSpec.NONE without it. */
  SloSpec slos() {
    if (goodput == null) return SloSpec.NONE;
    try {
      return SloSpec.parse(goodput);
    } catch (IllegalArgumentException e) {
      throw new UsageError("--goodput: " + e.getMessage());
    }
  }

  /** --expectations and --update-expectations, checked. */
  void checkExpectations() {
    if (updateExpectations && expectations == null) {
      throw new UsageError("--update-expectations needs --expectations FILE");
    }
    if (expectations != null && !java.nio.file.Files.isRegularFile(expectations) && !updateExpectations) {
      throw new UsageError("--expectations: no such file " + expectations);
    }
  }
}
