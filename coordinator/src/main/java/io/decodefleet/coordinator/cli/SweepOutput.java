package io.decodefleet.coordinator.cli;

import io.decodefleet.coordinator.metrics.ConsoleTable;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import io.decodefleet.coordinator.report.Expectations;
import io.decodefleet.coordinator.report.MetricVerdict;
import io.decodefleet.coordinator.report.ReportWriter;
import io.decodefleet.coordinator.report.VerdictTable;
import io.decodefleet.coordinator.report.WrittenReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * The end of every {@code coordinator} benchmark, in process or against an endpoint: write the
 * report directory, print each point's table and the sweep summary, check the expectations, and
 * turn it all into the exit code (0 when every request completed, every check passed and nothing
 * regressed; else 1, with one line saying why).
 */
final class SweepOutput {
  private final ReportOptions cli;

  SweepOutput(ReportOptions options) {
    this.cli = options;
  }

  int writeAndPrint(SweepReport measured) {
    SweepReport report = measured.withPercentiles(cli.percentiles);
    Path dir = cli.reportDir != null ? cli.reportDir
        : Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    WrittenReport written;
    try {
      Files.createDirectories(dir);
      written = ReportWriter.write(report, dir);
    } catch (IOException e) {
      System.err.println("coordinator: cannot write the report to " + dir + ": " + e.getMessage());
      return 1;
    }
    boolean ok = true;
    if (report.simulated() && !cli.quiet) System.out.println(report.simulation().headline());
    for (SweepPoint p : report.points()) {
      if (!cli.quiet) {
        System.out.print(ConsoleTable.render(p, report.percentiles()));
        if (p.engine() != null) System.out.println(BenchmarkSession.describeEngine(p.engine()));
        if (p.engine() != null && p.engine().profile() != null) {
          System.out.print(io.decodefleet.coordinator.metrics.ProfileTable.render(p.engine().profile()));
        }
        if (p.engine() != null && p.engine().expertLoad() != null) {
          System.out.println(io.decodefleet.coordinator.metrics.ExpertLoadReport.line(p.engine().expertLoad()));
        }
      }
      if (p.verification() != null && !cli.quiet) {
        System.out.println("Verification (" + at(p) + "): " + BenchmarkSession.describeVerification(p.verification()));
      }
      ok &= p.result().failed() == 0 && (p.verification() == null || p.verification().passed());
    }
    if (report.points().size() > 1 && !cli.quiet) System.out.print(ConsoleTable.renderSweep(report));
    if (report.client() != null && !cli.quiet) {
      System.out.println("Client mode: " + report.client().url() + ", served model " + report.client().servedModel()
          + "; times on this client's clock");
    }
    if (report.simulated() && !cli.quiet) System.out.println(report.simulation().headline());
    System.out.println("report: " + written.reportJson());
    if (written.chartsSkipped() != null) {
      System.err.println("coordinator: warning: charts not drawn (" + written.chartsSkipped()
          + "); install fontconfig, libfreetype6 and libharfbuzz0b to get them");
    }
    if (cli.expectations != null) ok &= checkExpectations(report);
    if (!ok) System.err.println("coordinator: " + failureSummary(report));
    return ok ? 0 : 1;
  }

  /** "world size 4", "request rate inf", "max concurrency 16". */
  private static String at(SweepPoint p) {
    return p.axis().noun() + " " + p.axis().format(p.axisValue());
  }

  private boolean checkExpectations(SweepReport report) {
    try {
      Expectations expected = Files.exists(cli.expectations) ? Expectations.load(cli.expectations)
          : new Expectations("", List.of());
      List<MetricVerdict> verdicts = expected.compare(report);
      if (!cli.quiet) System.out.print(VerdictTable.render(verdicts));
      if (cli.updateExpectations) {
        expected.withImprovements(verdicts).write(cli.expectations);
        System.out.println("expectations: improved values written to " + cli.expectations);
      }
      return !Expectations.anyRegressed(verdicts);
    } catch (IOException | IllegalArgumentException e) {
      System.err.println("coordinator: --expectations: " + e.getMessage());
      return false;
    }
  }

  private static String failureSummary(SweepReport report) {
    for (SweepPoint p : report.points()) {
      if (p.result().failed() > 0) {
        String first = p.requests().stream().filter(r -> !r.completed())
            .map(r -> "request " + r.requestId() + ": " + r.failureReason()).findFirst().orElse("");
        return at(p) + ": " + p.result().failed() + " requests failed (first: " + first + ")";
      }
      if (p.verification() != null && !p.verification().passed()) {
        return at(p) + ": verification failed: " + p.verification().failureDetails();
      }
    }
    return "a metric regressed against the expectations";
  }
}
