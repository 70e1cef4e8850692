package io.decodefleet.coordinator.metrics;

import java.util.List;
import java.util.Objects;

/**
 * One run of a sweep: the workload at one world size.
 *
 * @param worldSize number of agents (GPUs), at least 1
 * @param result the benchmark summary of this run
 * @param requests every request of this run, as {@link MetricsRecorder#requests()} gives them
 * @param engine the run's engine totals (steps, preemptions, ...); null when none were taken
 *     (report.json then has an empty "engine")
 * @param verification output verification results; null when verification was not run
 * @param agents one description per agent (device, backend, KV capacity, ...); null becomes empty
 * @param scalingEfficiency see {@link ScalingEfficiency}; NaN until the point is placed in a
 *     {@link SweepReport}, which computes it from the whole sweep
 */
public record SweepPoint(
    int worldSize,
    BenchmarkResult result,
    List<RequestRecord> requests,
    EngineTotals engine,
    VerificationSummary verification,
    List<AgentDescription> agents,
    double scalingEfficiency) {

  public SweepPoint {
    if (worldSize < 1) {
      throw new IllegalArgumentException("sweep point world size must be >= 1, got " + worldSize);
    }
    Objects.requireNonNull(result, "result");
    requests = List.copyOf(requests == null ? List.of() : requests);
    agents = List.copyOf(agents == null ? List.of() : agents);
  }

  /** A point whose scaling efficiency is yet to be computed by its {@link SweepReport}. */
  public static SweepPoint of(
      int worldSize,
      BenchmarkResult result,
      List<RequestRecord> requests,
      EngineTotals engine,
      VerificationSummary verification,
      List<AgentDescription> agents) {
    return new SweepPoint(worldSize, result, requests, engine, verification, agents, Double.NaN);
  }

  /** This point with its result's goodput measured against {@code slos} (null: no goodput). */
  public SweepPoint withGoodput(SloSpec slos) {
    return new SweepPoint(worldSize, result.withGoodput(slos, requests), requests, engine,
        verification, agents, scalingEfficiency);
  }

  /** This point with the given scaling efficiency. */
  public SweepPoint withScalingEfficiency(double efficiency) {
    return new SweepPoint(worldSize, result, requests, engine, verification, agents, efficiency);
  }
}
