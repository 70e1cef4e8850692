package io.decodefleet.coordinator.soak;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What a soak found, typed from the moment it exists; {@link SoakReport} writes it as soak.json and
 * as the console summary.
 *
 * @param date when the soak started (ISO-8601, local offset)
 * @param phases how long each part took: start, reference, heap_start, load, drain, heap_end, stop
 * @param problems things that went wrong outside the checks' own figures (one line each)
 */
public record SoakResult(String date, SoakSettings settings, List<Phase> phases, Requests requests, List<FaultInjector.Fault> faults, int faultTicksSkipped, FleetFigures fleet,
    Heap heap, List<LogScan.StackTrace> stackTraces, List<String> problems, List<Check> checks) {

  /**
   * The requests of the soak (the reference run's apart).
   *
   * @param reference requests of the fault-free reference run (every shape over gRPC and over HTTP)
   * @param sent requests of the soak, each counted once however many attempts it took
   * @param lost sent but never completed (failed for good, or still retrying when the soak stopped waiting)
   * @param duplicated requests whose stream delivered a token twice
   * @param mismatched completed requests whose tokens differ from the reference's
   * @param retried requests that needed more than one attempt
   * @param attempts attempts over all requests
   * @param clientMigrations moves between agents that gRPC summaries reported
   * @param retryReasons why attempts were retried, most frequent first
   * @param lostExamples why the first few lost requests were lost
   */
  record Requests(int reference, int sent, int grpc, int http, int completed, int lost, int duplicated,
      int mismatched, int retried, int attempts, long clientMigrations, List<ReasonCount> retryReasons,
      List<String> lostExamples) {}

  record ReasonCount(String reason, int count) {}

  record Phase(String name, double seconds) {}

  /**
   * The coordinators' own counts over the soak, from their {@code /metrics} (a killed coordinator's as
   * last scraped before it was killed).
   *
   * @param kvMigrations sequences moved with their KV ({@code decodefleet_migrations_total{kind="kv"}})
   * @param reprefillMigrations sequences moved and re-prefilled ({@code kind="reprefill"})
   * @param replacements sequences placed anew ({@code decodefleet_replacements_total})
   * @param agentsLost agents that left the fleet ({@code decodefleet_agents_lost_total})
   * @param requestsFinished API requests the coordinators finished ({@code vllm:request_success_total})
   * @param agentsUpAtEnd agents of the fleet alive and loaded once every restart was over
   *     ({@code decodefleet_agents_up} of the active coordinator); -1 if it could not be read
   */
  record FleetFigures(long kvMigrations, long reprefillMigrations, long replacements, long agentsLost,
      long requestsFinished, int agentsUpAtEnd) {}

  /**
   * The coordinators' live heap after a full GC, summed over the coordinator processes up when the
   * load began and once it was over: one active and the rest standby both times, whichever processes
   * those are after a coordinator was stopped and started again, so the sums compare like with like.
   *
   * @param startBytes at the start; -1 if a coordinator up then could not be measured
   * @param endBytes at the end; -1 likewise
   */
  record Heap(long startBytes, long endBytes, List<HeapFigure> processes) {
    /** Growth from start to end, percent; NaN without both sums. */
    double growthPercent() {
      return startBytes > 0 && endBytes > 0 ? 100.0 * (endBytes - startBytes) / startBytes : Double.NaN;
    }
  }

  /**
   * The live heap of one coordinator process after a full GC.
   *
   * @param startBytes when the load began; -1 if it was not up then (started later) or not measured
   * @param endBytes once the load was over; -1 if it was gone by then, or not measured
   */
  record HeapFigure(String process, long pid, long startBytes, long endBytes) {}

  record Check(String name, boolean passed, String detail) {}

  /** How long requests were sent and faults injected, seconds. */
  double loadSeconds() {
    return phases.stream().filter(p -> p.name().equals("load")).mapToDouble(Phase::seconds).sum();
  }

  /** The whole soak, seconds. */
  double totalSeconds() {
    return phases.stream().mapToDouble(Phase::seconds).sum();
  }

  public boolean passed() {
    return checks.stream().allMatch(Check::passed);
  }

  Map<FaultInjector.Kind, Integer> faultsByKind() {
    Map<FaultInjector.Kind, Integer> counts = new EnumMap<>(FaultInjector.Kind.class);
    for (FaultInjector.Kind k : FaultInjector.Kind.values()) counts.put(k, 0);
    for (FaultInjector.Fault f : faults) counts.merge(f.kind(), 1, Integer::sum);
    return counts;
  }
}
