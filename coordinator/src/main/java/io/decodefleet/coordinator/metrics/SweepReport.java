package io.decodefleet.coordinator.metrics;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The report of a sweep: the same workload (same seed) run at several points of one {@link
 * SweepAxis} — world sizes of an in-process fleet, or request rates or concurrencies against an
 * OpenAI endpoint — one {@link SweepPoint} each. A single run is a sweep of one point. Written to a
 * report directory by {@code io.decodefleet.coordinator.report.ReportWriter}, summarised by {@link
 * ConsoleTable#renderSweep}.
 *
 * <p>The constructor makes the points consistent with the sweep: it sorts them by their axis value
 * (inf last), measures every point's goodput against {@code goodput} (or clears it when there are no
 * SLOs) and, on the world-size axis, computes every point's {@link ScalingEfficiency} from the
 * smallest world size (NaN on the other axes), and computes every point's latency percentiles
 * at {@code percentiles}.
 *
 * @param command the command line that started the sweep
 * @param settings sweep settings as given by the caller (model, backend, placement, seed, world
 *     sizes, ...), as report.json's "settings" object; null becomes empty; copied
 * @param versions software versions, e.g. "decodefleet", "java", "pekko"; null becomes empty
 * @param hardware a description of the hardware
 * @param backend the decode engine backend
 * @param model the model name
 * @param startedAt when the sweep started, ISO-8601
 * @param goodput the goodput SLOs; null (or empty, which becomes null) when none were given
 * @param points at least one, all on one axis, at distinct values
 * @param client the endpoint a client-mode sweep measured; null for the in-process benchmark
 * @param percentiles which metrics get which percentiles in the console, report.json and
 *     results.csv; null becomes {@link PercentileSpec#DEFAULT}
 * @param simulation what a simulated sweep modelled; null for a sweep that ran requests
 */
public record SweepReport(
    String command,
    ObjectNode settings,
    Map<String, String> versions,
    String hardware,
    String backend,
    String model,
    String startedAt,
    SloSpec goodput,
    List<SweepPoint> points,
    EndpointDescription client,
    PercentileSpec percentiles,
    SimulationDescription simulation) {

  public SweepReport {
    settings = settings == null ? JsonNodeFactory.instance.objectNode() : settings.deepCopy();
    versions = Collections.unmodifiableMap(new LinkedHashMap<>(versions == null ? Map.of() : versions));
    goodput = goodput == null || goodput.isEmpty() ? null : goodput;
    percentiles = percentiles == null ? PercentileSpec.DEFAULT : percentiles;
    Objects.requireNonNull(points, "points");
    if (points.isEmpty()) {
      throw new IllegalArgumentException("a sweep report needs at least one sweep point");
    }
    SweepAxis axis = points.get(0).axis();
    List<SweepPoint> sorted = new ArrayList<>(points);
    sorted.sort(Comparator.comparingDouble(SweepPoint::axisValue));
    for (int i = 0; i < sorted.size(); i++) {
      if (sorted.get(i).axis() != axis) {
        throw new IllegalArgumentException("sweep mixes points on the " + axis.noun() + " and the "
            + sorted.get(i).axis().noun() + " axes");
      }
      if (i > 0 && sorted.get(i).axisValue() == sorted.get(i - 1).axisValue()) {
        throw new IllegalArgumentException(
            "sweep has two points at " + axis.noun() + " " + axis.format(sorted.get(i).axisValue()));
      }
    }
    SweepPoint base = sorted.get(0);
    double baseThroughput = base.result().outputTokenThroughput();
    List<SweepPoint> consistent = new ArrayList<>(sorted.size());
    for (SweepPoint point : sorted) {
      double efficiency = axis != SweepAxis.WORLD_SIZE ? Double.NaN
          : ScalingEfficiency.relativeTo(base.worldSize(), baseThroughput, point.worldSize(),
              point.result().outputTokenThroughput());
      consistent.add(point.withGoodput(goodput).withScalingEfficiency(efficiency)
          .withPercentiles(percentiles.percentiles()));
    }
    points = List.copyOf(consistent);
  }

  /** A sweep that ran its requests (not simulated). */
  public SweepReport(String command, ObjectNode settings, Map<String, String> versions, String hardware,
      String backend, String model, String startedAt, SloSpec goodput, List<SweepPoint> points,
      EndpointDescription client, PercentileSpec percentiles) {
    this(command, settings, versions, hardware, backend, model, startedAt, goodput, points, client, percentiles, null);
  }

  /** An in-process sweep (no client endpoint) with the default percentiles. */
  public SweepReport(String command, ObjectNode settings, Map<String, String> versions, String hardware,
      String backend, String model, String startedAt, SloSpec goodput, List<SweepPoint> points) {
    this(command, settings, versions, hardware, backend, model, startedAt, goodput, points, null, null);
  }

  /** A sweep with the default percentiles. */
  public SweepReport(String command, ObjectNode settings, Map<String, String> versions, String hardware,
      String backend, String model, String startedAt, SloSpec goodput, List<SweepPoint> points,
      EndpointDescription client) {
    this(command, settings, versions, hardware, backend, model, startedAt, goodput, points, client, null);
  }

  /** This report with its latency percentiles computed and written as {@code spec} says. */
  public SweepReport withPercentiles(PercentileSpec spec) {
    return new SweepReport(command, settings, versions, hardware, backend, model, startedAt, goodput, points, client,
        spec, simulation);
  }

  /** Whether its points were simulated rather than run. */
  public boolean simulated() {
    return simulation != null;
  }

  /** What the sweep varies: its points' axis. */
  public SweepAxis axis() {
    return points.get(0).axis();
  }

  /**
   * The world size scaling efficiency is measured from: 1 when run, else the smallest.
   *
   * @throws IllegalStateException off the world-size axis
   */
  public int baseWorldSize() {
    return points.get(0).worldSize();
  }

  /** The point at {@code worldSize}, if the sweep ran it; empty off the world-size axis. */
  public Optional<SweepPoint> point(int worldSize) {
    return points.stream().filter(p -> p.axis() == SweepAxis.WORLD_SIZE && p.worldSize() == worldSize).findFirst();
  }
}
