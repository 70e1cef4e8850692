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
 * The report of a sweep: the same workload (same seed) run at several world sizes, one {@link
 * SweepPoint} each. A single run is a sweep of one point. Written to a report directory by {@code
 * io.decodefleet.coordinator.report.ReportWriter}, summarised by {@link
 * ConsoleTable#renderSweep}.
 *
 * <p>The constructor makes the points consistent with the sweep: it sorts them by world size,
 * measures every point's goodput against {@code goodput} (or clears it when there are no SLOs) and
 * computes every point's {@link ScalingEfficiency} from the smallest world size.
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
 * @param points one per world size, at least one; world sizes distinct
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
    List<SweepPoint> points) {

  public SweepReport {
    settings = settings == null ? JsonNodeFactory.instance.objectNode() : settings.deepCopy();
    versions = Collections.unmodifiableMap(new LinkedHashMap<>(versions == null ? Map.of() : versions));
    goodput = goodput == null || goodput.isEmpty() ? null : goodput;
    Objects.requireNonNull(points, "points");
    if (points.isEmpty()) {
      throw new IllegalArgumentException("a sweep report needs at least one sweep point");
    }
    List<SweepPoint> sorted = new ArrayList<>(points);
    sorted.sort(Comparator.comparingInt(SweepPoint::worldSize));
    for (int i = 1; i < sorted.size(); i++) {
      if (sorted.get(i).worldSize() == sorted.get(i - 1).worldSize()) {
        throw new IllegalArgumentException(
            "sweep has two points at world size " + sorted.get(i).worldSize());
      }
    }
    SweepPoint base = sorted.get(0);
    double baseThroughput = base.result().outputTokenThroughput();
    List<SweepPoint> consistent = new ArrayList<>(sorted.size());
    for (SweepPoint point : sorted) {
      double efficiency = ScalingEfficiency.relativeTo(base.worldSize(), baseThroughput,
          point.worldSize(), point.result().outputTokenThroughput());
      consistent.add(point.withGoodput(goodput).withScalingEfficiency(efficiency));
    }
    points = List.copyOf(consistent);
  }

  /** The world size scaling efficiency is measured from: 1 when run, else the smallest. */
  public int baseWorldSize() {
    return points.get(0).worldSize();
  }

  /** The point at {@code worldSize}, if the sweep ran it. */
  public Optional<SweepPoint> point(int worldSize) {
    return points.stream().filter(p -> p.worldSize() == worldSize).findFirst();
  }
}
