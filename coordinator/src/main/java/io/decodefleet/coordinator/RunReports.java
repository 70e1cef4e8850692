package io.decodefleet.coordinator;

import io.decodefleet.coordinator.metrics.ReportJson;
import io.decodefleet.coordinator.metrics.RunReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Turns a run's outcome into the report the user reads, and writes it. */
public final class RunReports {
  private RunReports() {}

  public static RunReport build(String command, Map<String, Object> settings, String backend, String model,
      int worldSize, RunOutcome outcome, String startedAt) {
    Map<String, Object> engine = new LinkedHashMap<>(outcome.engine());
    engine.put("agents", outcome.agents());
    return new RunReport(command, settings, HardwareDescription.describe(), backend, model, worldSize,
        outcome.result(), engine, outcome.verification(), startedAt);
  }

  /** Writes {@code dir/report.json}; returns its path. */
  public static Path write(RunReport report, RunOutcome outcome, Path dir) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve("report.json");
    ReportJson.write(report, file);
    return file;
  }

  public static String describeVerification(Map<String, Object> v) {
    return (Boolean.TRUE.equals(v.get("passed")) ? "passed" : "FAILED") + " (" + v.get("sequences_checked")
        + " sequences checked against a full recompute, max relative logit error " + v.get("max_rel_error")
        + ", tolerance " + v.get("tolerance") + ", failures " + v.get("failures") + ")";
  }

  public static String describeFailure(RunOutcome outcome) {
    if (outcome.error() != null) return outcome.error();
    if (outcome.result().failed() > 0) {
      String first = outcome.requests().stream().filter(r -> !r.completed()).map(r -> r.requestId() + ": "
          + r.failureReason()).findFirst().orElse("");
      return outcome.result().failed() + " requests failed (first: " + first + ")";
    }
    return "verification failed: " + outcome.verification().get("failure_details");
  }
}
