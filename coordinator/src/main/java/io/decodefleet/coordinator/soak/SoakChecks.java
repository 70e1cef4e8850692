package io.decodefleet.coordinator.soak;

import io.decodefleet.coordinator.soak.SoakResult.Check;
import java.util.ArrayList;
import java.util.List;

/** The checks a soak must pass, each with the figures that decided it. */
final class SoakChecks {
  /** Most the coordinators' live heap (summed) may grow over the soak, percent of its baseline after the warm-up. */
  static final double HEAP_GROWTH_PERCENT = 10.0;
  static final int DETAIL_CHARS = 240;

  private SoakChecks() {}

  static List<Check> of(SoakSettings settings, SoakResult.Requests r, List<FaultInjector.Fault> faults,
      SoakResult.FleetFigures fleet, SoakResult.Heap heap, List<LogScan.StackTrace> traces, List<String> problems) {
    List<Check> checks = new ArrayList<>();
    checks.add(new Check("every request completed exactly once", r.sent() > 0 && r.lost() == 0,
        r.completed() + " of " + r.sent() + " completed, " + r.lost() + " lost"));
    checks.add(new Check("no token delivered twice", r.duplicated() == 0, r.duplicated() + " requests duplicated tokens"));
    checks.add(new Check("tokens equal the run without faults", r.mismatched() == 0 && r.completed() > 0,
        r.mismatched() + " of " + r.completed() + " completed requests differ from the reference"));
    long referenceProblems = problems.stream().filter(p -> p.startsWith("reference run:")).count();
    checks.add(new Check("reference run: every shape completed, gRPC and HTTP agree", referenceProblems == 0,
        referenceProblems == 0 ? r.reference() + " requests" : referenceProblems + " problems (see problems)"));
    checks.add(new Check("faults were injected", !faults.isEmpty(), faults.size() + " faults"));
    if (settings.coordinators() > 1) {
      FaultInjector.Kind kind = FaultInjector.Kind.COORDINATOR_SIGKILL;
      boolean stopped = faults.stream().anyMatch(f -> f.kind() == kind);
      checks.add(new Check("the active coordinator was stopped (" + kind.label + ")", stopped, stopped ? "once" : "never"));
    }
    List<FaultInjector.Fault> troubled = faults.stream().filter(f -> f.problem() != null).toList();
    checks.add(new Check("every stopped node came back", troubled.isEmpty(), troubled.isEmpty()
        ? faults.size() + " restarts" : troubled.get(0).node() + ": " + shortened(troubled.get(0).problem())
            + (troubled.size() > 1 ? " (and " + (troubled.size() - 1) + " more)" : "")));
    checks.add(new Check("the fleet is whole again at the end", fleet.agentsUpAtEnd() == settings.daemons(),
        fleet.agentsUpAtEnd() < 0 ? "agents up could not be read" : fleet.agentsUpAtEnd() + " of " + settings.daemons()
            + " agents up"));
    boolean measured = heap.startBytes() > 0 && heap.endBytes() > 0;
    checks.add(new Check("coordinators' heap after GC grew at most " + (int) HEAP_GROWTH_PERCENT + " %",
        measured && heap.growthPercent() <= HEAP_GROWTH_PERCENT, measured ? String.format("%.1f -> %.1f MiB (%+.1f %%)",
            heap.startBytes() / 1048576.0, heap.endBytes() / 1048576.0, heap.growthPercent()) : "not measured"));
    checks.add(new Check("no stack trace in any log", traces.isEmpty(), traces.isEmpty() ? "none"
        : traces.size() + " log files, first " + traces.get(0).file().getFileName() + ":" + traces.get(0).line()));
    List<String> other = problems.stream().filter(p -> !p.startsWith("reference run:")).toList();
    checks.add(new Check("every node stopped cleanly, nothing else went wrong", other.isEmpty(),
        other.isEmpty() ? "yes" : shortened(other.get(0)) + (other.size() > 1 ? " (and " + (other.size() - 1) + " more)" : "")));
    return checks;
  }

  /** A problem as a check's detail: its first {@link #DETAIL_CHARS} characters (soak.json keeps it whole). */
  private static String shortened(String problem) {
    return problem.length() <= DETAIL_CHARS ? problem : problem.substring(0, DETAIL_CHARS - 3) + "...";
  }
}
