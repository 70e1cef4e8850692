package io.decodefleet.coordinator.metrics;

import java.util.List;
import java.util.Objects;

/**
 * One run of a sweep: the workload at one value of the sweep's axis (a world size, a request rate or
 * a maximum concurrency).
 *
 * @param axis what the sweep varies
 * @param axisValue this point's value on {@code axis}, as {@link SweepAxis#invalid} accepts it
 * @param result the benchmark summary of this run
 * @param requests every request of this run, as {@link MetricsRecorder#requests()} gives them
 * @param engine the run's engine totals (steps, preemptions, ...); null when none were taken
 *     (report.json then has an empty "engine")
 * @param verification output verification results; null when verification was not run
 * @param agents one description per agent (device, backend, KV capacity, ...); null becomes empty
 * @param scalingEfficiency see {@link ScalingEfficiency}; NaN until the point is placed in a
 *     {@link SweepReport}, which computes it from the whole sweep, and NaN off the world-size axis
 */
public record SweepPoint(
    SweepAxis axis,
    double axisValue,
    BenchmarkResult result,
    List<RequestRecord> requests,
    EngineTotals engine,
    VerificationSummary verification,
    List<AgentDescription> agents,
    double scalingEfficiency) {

  public SweepPoint {
    Objects.requireNonNull(axis, "axis");
    String invalid = axis.invalid(axisValue);
    if (invalid != null) {
      throw new IllegalArgumentException("sweep point " + invalid);
    }
    Objects.requireNonNull(result, "result");
    requests = List.copyOf(requests == null ? List.of() : requests);
    agents = List.copyOf(agents == null ? List.of() : agents);
  }

  /** A point at {@code worldSize} whose scaling efficiency is yet to be computed by its {@link SweepReport}. */
  public static SweepPoint of(
      int worldSize,
      BenchmarkResult result,
      List<RequestRecord> requests,
      EngineTotals engine,
      VerificationSummary verification,
      List<AgentDescription> agents) {
    return new SweepPoint(SweepAxis.WORLD_SIZE, worldSize, result, requests, engine, verification, agents, Double.NaN);
  }

  /** A point at {@code value} on {@code axis}, with no scaling efficiency yet. */
  public static SweepPoint on(
      SweepAxis axis,
      double value,
      BenchmarkResult result,
      List<RequestRecord> requests,
      EngineTotals engine,
      VerificationSummary verification,
      List<AgentDescription> agents) {
    return new SweepPoint(axis, value, result, requests, engine, verification, agents, Double.NaN);
  }

  /**
   * The number of agents (GPUs) of a point on the world-size axis.
   *
   * @throws IllegalStateException on another axis, where the run had no world size of its own
   */
  public int worldSize() {
    if (axis != SweepAxis.WORLD_SIZE) {
      throw new IllegalStateException("a point on the " + axis.noun() + " axis has no world size");
    }
    return (int) axisValue;
  }

  /** This point with its result's goodput measured against {@code slos} (null: no goodput). */
  public SweepPoint withGoodput(SloSpec slos) {
    return new SweepPoint(axis, axisValue, result.withGoodput(slos, requests), requests, engine,
        verification, agents, scalingEfficiency);
  }

  /** This point with its latency statistics computed again at {@code percentiles} (each 0..100). */
  public SweepPoint withPercentiles(List<Double> percentiles) {
    return new SweepPoint(axis, axisValue, result.withPercentiles(percentiles, requests), requests, engine,
        verification, agents, scalingEfficiency);
  }

  /** This point with the given scaling efficiency. */
  public SweepPoint withScalingEfficiency(double efficiency) {
    return new SweepPoint(axis, axisValue, result, requests, engine, verification, agents, efficiency);
  }
}
