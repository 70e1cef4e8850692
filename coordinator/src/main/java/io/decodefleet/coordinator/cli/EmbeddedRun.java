package io.decodefleet.coordinator.cli;

import io.decodefleet.coordinator.metrics.SweepReport;
import java.nio.file.Path;

/**
 * A normal run of the embedded cluster — {@link BenchmarkSession} on an {@code EmbeddedCluster} of CPU
 * or CUDA agents — with the fleet, workload and engine options another command was given, its report
 * written quietly into a directory: what {@code simulate --compare-real} and {@code calibrate-host}
 * measure the simulation against.
 */
final class EmbeddedRun {
  private EmbeddedRun() {}

  /**
   * @param backend the agents' backend, cpu or cuda (the calibration's)
   * @param percentiles the report's percentile options, or null for the defaults
   * @return the run's report, or null when it did not complete (its line printed)
   */
  static SweepReport run(String backend, FleetOptions fleet, WorkloadOptions workload, EngineOptions engine,
      ReportOptions percentiles, Path dir, String prefix) {
    CoordinatorCli cli = new CoordinatorCli();
    new picocli.CommandLine(cli).parseArgs(); // the run's defaults (the embedded cluster's options among them)
    cli.fleet = fleet;
    cli.workload = workload;
    cli.engine = engine;
    cli.engine.backend = backend;
    cli.report = quietIn(dir, percentiles);
    cli.originalArgs = new String[] {"(" + prefix + ")"};
    BenchmarkSession.Measured measured;
    try {
      measured = cli.session().measure();
    } catch (UsageError e) {
      System.err.println("coordinator " + prefix + ": " + e.getMessage());
      return null;
    }
    if (measured.report() == null) return null;
    int exit = new SweepOutput(cli.report).writeAndPrint(measured.report());
    return exit == 0 ? measured.report() : null;
  }

  /** Report options writing into {@code dir} and printing only the report's path, with {@code like}'s percentiles. */
  static ReportOptions quietIn(Path dir, ReportOptions like) {
    ReportOptions r = new ReportOptions();
    r.reportDir = dir;
    r.quiet = true;
    if (like != null) {
      r.goodput = like.goodput;
      r.percentileMetrics = like.percentileMetrics;
      r.metricPercentiles = like.metricPercentiles;
    }
    r.checkPercentiles();
    return r;
  }
}
