package io.decodefleet.coordinator.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Each check fails on the figure it is about, and only on it. */
class SoakChecksTest {
  private static final SoakSettings TWO = new SoakSettings(Duration.ofMinutes(2), 4, 2, Duration.ofSeconds(15), 12, 0,
      Path.of("runs"));
  private static final SoakResult.Requests CLEAN = new SoakResult.Requests(64, 500, 250, 250, 500, 0, 0, 0, 40, 560, 3,
      List.of(), List.of());
  private static final List<FaultInjector.Fault> FAULTS = List.of(
      new FaultInjector.Fault(15, FaultInjector.Kind.DAEMON_SIGKILL, "daemon-1", 11, 20, null),
      new FaultInjector.Fault(60, FaultInjector.Kind.COORDINATOR_SIGKILL, "coordinator-0", 12, 25, null));
  private static final SoakResult.FleetFigures WHOLE = new SoakResult.FleetFigures(0, 5, 0, 1, 500, 4);
  private static final SoakResult.Heap HEAP = new SoakResult.Heap(44 << 20, 46 << 20, List.of());

  /** The names of the checks that failed. */
  private static List<String> failed(SoakResult.Requests r, List<FaultInjector.Fault> faults,
      SoakResult.FleetFigures fleet, SoakResult.Heap heap, List<LogScan.StackTrace> traces, List<String> problems) {
    return SoakChecks.of(TWO, r, faults, fleet, heap, traces, problems).stream().filter(c -> !c.passed())
        .map(SoakResult.Check::name).collect(Collectors.toList());
  }

  @Test
  void aCleanSoakPassesEveryCheck() {
    assertEquals(List.of(), failed(CLEAN, FAULTS, WHOLE, HEAP, List.of(), List.of()));
  }

  @Test
  void oneLostRequestFailsExactlyOnce() {
    SoakResult.Requests lost = new SoakResult.Requests(64, 500, 250, 250, 499, 1, 0, 0, 40, 560, 3, List.of(),
        List.of("request 7 (http): still outstanding"));
    assertEquals(List.of("every request completed exactly once"), failed(lost, FAULTS, WHOLE, HEAP, List.of(), List.of()));
  }

  @Test
  void heapGrowthOverTenPercentOrUnmeasuredFails() {
    String heapCheck = "coordinators' heap after GC grew at most 10 %";
    SoakResult.Heap grown = new SoakResult.Heap(40 << 20, 45 << 20, List.of());
    assertEquals(List.of(heapCheck), failed(CLEAN, FAULTS, WHOLE, grown, List.of(), List.of()));
    SoakResult.Heap unmeasured = new SoakResult.Heap(-1, 45 << 20, List.of());
    assertEquals(List.of(heapCheck), failed(CLEAN, FAULTS, WHOLE, unmeasured, List.of(), List.of()));
    SoakResult.Heap shrunk = new SoakResult.Heap(45 << 20, 30 << 20, List.of());
    assertEquals(List.of(), failed(CLEAN, FAULTS, WHOLE, shrunk, List.of(), List.of()), "a smaller heap is no leak");
  }

  @Test
  void aCoordinatorNeverStoppedAStackTraceAShortFleetAndAFailedRestartEachFailTheirCheck() {
    List<FaultInjector.Fault> daemonsOnly = FAULTS.subList(0, 1);
    assertEquals(List.of("the active coordinator was stopped (coordinator_sigkill)"),
        failed(CLEAN, daemonsOnly, WHOLE, HEAP, List.of(), List.of()));
    LogScan.StackTrace trace = new LogScan.StackTrace(Path.of("logs/daemon-0.1.err"), 12, 30, "java.lang.Error / at x.y(Z.java:1)");
    assertEquals(List.of("no stack trace in any log"), failed(CLEAN, FAULTS, WHOLE, HEAP, List.of(trace), List.of()));
    SoakResult.FleetFigures short3 = new SoakResult.FleetFigures(0, 5, 0, 1, 500, 3);
    assertEquals(List.of("the fleet is whole again at the end"), failed(CLEAN, FAULTS, short3, HEAP, List.of(), List.of()));
    List<FaultInjector.Fault> failedRestart = List.of(FAULTS.get(0), new FaultInjector.Fault(60,
        FaultInjector.Kind.COORDINATOR_SIGKILL, "coordinator-0", 12, -1, "restart failed: exited with code 1"));
    assertEquals(List.of("every stopped node came back"), failed(CLEAN, failedRestart, WHOLE, HEAP, List.of(), List.of()));
  }

  @Test
  void referenceProblemsAndOtherProblemsFailTheirOwnChecks() {
    assertEquals(List.of("reference run: every shape completed, gRPC and HTTP agree"),
        failed(CLEAN, FAULTS, WHOLE, HEAP, List.of(), List.of("reference run: shape 3 gave different tokens over gRPC and HTTP")));
    assertEquals(List.of("every node stopped cleanly, nothing else went wrong"),
        failed(CLEAN, FAULTS, WHOLE, HEAP, List.of(), List.of("daemon-2#1 (pid 9) exited with code 1 after SIGTERM")));
  }
}
