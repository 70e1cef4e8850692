package io.decodefleet.coordinator.metrics;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The whole run's report, written to report.json by {@link ReportJson} and printed by {@link
 * ConsoleTable}. Maps are copied with their insertion order kept and may hold null values.
 *
 * <p>A single run is also a {@link SweepReport} of one point, which carries more (versions,
 * goodput, per-request records, scaling efficiency); this flat one-run layout remains for callers
 * not yet moved to it.
 *
 * @param command the command line that started the run
 * @param settings run settings as given by the caller (world size, model, backend, placement,
 *     seed, ...); null becomes empty
 * @param hardware a description of the hardware
 * @param backend the decode engine backend
 * @param model the model name
 * @param worldSize number of agents (GPUs) in the run
 * @param result the benchmark summary
 * @param engine free-form engine statistics; null becomes empty
 * @param verification output verification results; null when verification was not run
 * @param startedAt when the run started, ISO-8601
 */
public record RunReport(
    String command,
    Map<String, Object> settings,
    String hardware,
    String backend,
    String model,
    int worldSize,
    BenchmarkResult result,
    Map<String, Object> engine,
    Map<String, Object> verification,
    String startedAt) {

  public RunReport {
    Objects.requireNonNull(result, "result");
    settings = orderedCopy(settings == null ? Map.of() : settings);
    engine = orderedCopy(engine == null ? Map.of() : engine);
    verification = verification == null ? null : orderedCopy(verification);
  }

  /** An unmodifiable copy that keeps insertion order and null values (Map.copyOf keeps neither). */
  private static Map<String, Object> orderedCopy(Map<String, Object> map) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }
}
