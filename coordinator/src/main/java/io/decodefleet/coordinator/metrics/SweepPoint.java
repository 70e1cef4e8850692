package io.decodefleet.coordinator.metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One run of a sweep: the workload at one world size. Maps are copied with their insertion order
 * kept and may hold null values.
 *
 * @param worldSize number of agents (GPUs), at least 1
 * @param result the benchmark summary of this run
 * @param requests every request of this run, as {@link MetricsRecorder#requests()} gives them
 * @param engine free-form engine statistics (steps, preemptions, ...); null becomes empty
 * @param verification output verification results; null when verification was not run
 * @param agents one map per agent describing it ("agent_id", device, backend, KV capacity, ...);
 *     null becomes empty
 * @param scalingEfficiency see {@link ScalingEfficiency}; NaN until the point is placed in a
 *     {@link SweepReport}, which computes it from the whole sweep
 */
public record SweepPoint(
    int worldSize,
    BenchmarkResult result,
    List<RequestRecord> requests,
    Map<String, Object> engine,
    Map<String, Object> verification,
    List<Map<String, Object>> agents,
    double scalingEfficiency) {

  public SweepPoint {
    if (worldSize < 1) {
      throw new IllegalArgumentException("sweep point world size must be >= 1, got " + worldSize);
    }
    Objects.requireNonNull(result, "result");
    requests = List.copyOf(requests == null ? List.of() : requests);
    engine = orderedCopy(engine == null ? Map.of() : engine);
    verification = verification == null ? null : orderedCopy(verification);
    List<Map<String, Object>> agentCopies = new ArrayList<>();
    for (Map<String, Object> agent : agents == null ? List.<Map<String, Object>>of() : agents) {
      agentCopies.add(orderedCopy(agent));
    }
    agents = Collections.unmodifiableList(agentCopies);
  }

  /** A point whose scaling efficiency is yet to be computed by its {@link SweepReport}. */
  public static SweepPoint of(
      int worldSize,
      BenchmarkResult result,
      List<RequestRecord> requests,
      Map<String, Object> engine,
      Map<String, Object> verification,
      List<Map<String, Object>> agents) {
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

  /** An unmodifiable copy that keeps insertion order and null values (Map.copyOf keeps neither). */
  static <V> Map<String, V> orderedCopy(Map<String, V> map) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }
}
