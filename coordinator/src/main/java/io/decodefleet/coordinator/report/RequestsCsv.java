package io.decodefleet.coordinator.report;

import io.decodefleet.coordinator.metrics.RequestRecord;
import io.decodefleet.coordinator.metrics.SweepAxis;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;

/**
 * requests.csv: one row per request per sweep point, points in the order of the sweep's axis and
 * requests in release order. The first column is the point's value on the axis ("world_size",
 * "request_rate" or "max_concurrency", as in results.csv). Times in ms; a value that could not be measured (TPOT of a one-token request,
 * TTFT of a request that never produced a token) is an empty field; "failure" is the reason a
 * failed request failed, empty otherwise.
 */
final class RequestsCsv {

  private static final List<String> COLUMNS = List.of("request_id", "agent_id",
      "prompt_tokens", "output_tokens", "completed", "ttft_ms", "tpot_ms", "e2e_ms", "migrations",
      "failure");

  static List<String> header(SweepAxis axis) {
    List<String> header = new ArrayList<>(List.of(axis.key()));
    header.addAll(COLUMNS);
    return header;
  }

  private RequestsCsv() {}

  /** Streams the file, since a large sweep has hundreds of thousands of requests. */
  static void write(SweepReport report, Writer out) throws IOException {
    out.write(Csv.line(header(report.axis())));
    for (SweepPoint point : report.points()) {
      String at = point.axis().format(point.axisValue());
      for (RequestRecord r : point.requests()) {
        out.write(Csv.line(List.of(
            at,
            Long.toString(r.requestId()),
            r.agentId() == null ? "" : r.agentId(),
            Integer.toString(r.promptTokens()),
            Integer.toString(r.outputTokens()),
            Boolean.toString(r.completed()),
            Csv.number(r.ttftMs()),
            Csv.number(r.tpotMs()),
            Csv.number(r.e2eMs()),
            Integer.toString(r.migrations()),
            r.failureReason() == null ? "" : r.failureReason())));
      }
    }
  }
}
