package io.decodefleet.coordinator.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.coordinator.metrics.EndpointDescription;
import io.decodefleet.coordinator.metrics.SloSpec;
import io.decodefleet.coordinator.metrics.SweepAxis;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import io.decodefleet.coordinator.node.HardwareDescription;
import io.decodefleet.coordinator.report.RuntimeVersions;
import io.decodefleet.coordinator.run.RunOutcome;
import io.decodefleet.coordinator.workload.RequestSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Client mode: the same workload (same seed, same prompts) against one OpenAI-compatible endpoint at
 * every point of a request-rate or concurrency sweep, one {@link EndpointRun} after another, gathered
 * into the {@link SweepReport} the in-process benchmark writes, marked with the endpoint and served
 * model. The backend is "endpoint" and the hardware this client's host: what serves the requests is
 * the server's to say.
 */
public final class EndpointSession {

  /**
   * One point of the sweep.
   *
   * @param axisValue the point's value on the sweep's axis (inf: all at once, or no limit)
   * @param requests the workload as this point releases it (a request rate's arrival times)
   * @param maxConcurrency most requests outstanding at once; 0 = unlimited
   */
  public record Point(double axisValue, List<RequestSpec> requests, int maxConcurrency) {
    public Point {
      requests = List.copyOf(requests);
    }
  }

  private final OpenAiEndpoint endpoint;
  private final SweepAxis axis;
  private final List<Point> points;

  /** @param axis {@link SweepAxis#REQUEST_RATE} or {@link SweepAxis#MAX_CONCURRENCY} */
  public EndpointSession(OpenAiEndpoint endpoint, SweepAxis axis, List<Point> points) {
    if (axis == SweepAxis.WORLD_SIZE) throw new IllegalArgumentException("an endpoint has no world size to sweep");
    if (points.isEmpty()) throw new IllegalArgumentException("a sweep needs at least one point");
    this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
    this.axis = axis;
    this.points = List.copyOf(points);
  }

  public OpenAiEndpoint endpoint() {
    return endpoint;
  }

  /** The endpoint as report.json's "client" names it. */
  public EndpointDescription description() {
    return new EndpointDescription(endpoint.url(), endpoint.servedModel());
  }

  /**
   * Runs every point in the order given and reports them.
   *
   * @param settings report.json's "settings", as the caller describes the workload
   * @param progress told one line as each point starts and ends
   */
  public SweepReport run(String command, ObjectNode settings, SloSpec slos, Consumer<String> progress)
      throws InterruptedException {
    String startedAt = java.time.OffsetDateTime.now().toString();
    List<SweepPoint> done = new ArrayList<>();
    for (Point p : points) {
      String at = axis.noun() + " " + axis.format(p.axisValue());
      progress.accept(at + ": " + p.requests().size() + " requests to " + endpoint.url());
      RunOutcome outcome = EndpointRun.run(endpoint, p.requests(), p.maxConcurrency());
      progress.accept(at + ": " + outcome.result().completed() + " completed, " + outcome.result().failed()
          + " failed in " + String.format(java.util.Locale.ROOT, "%.2f", outcome.result().durationSeconds()) + " s");
      done.add(SweepPoint.on(axis, p.axisValue(), outcome.result(), outcome.requests(), null, null, null));
    }
    return new SweepReport(command, settings, RuntimeVersions.current(),
        "client host: " + HardwareDescription.describe(), "endpoint", endpoint.servedModel(), startedAt, slos, done,
        description());
  }
}
