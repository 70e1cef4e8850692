package io.decodefleet.coordinator.report;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.decodefleet.coordinator.metrics.RequestRecord;
import io.decodefleet.coordinator.metrics.SweepAxis;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import java.io.IOException;
import java.io.Writer;

/**
 * requests.jsonl: one JSON object per request per sweep point, one per line, points in the order of
 * the sweep's axis and requests in release order. Each object has the point's value on the axis
 * (its key as in requests.csv: "world_size", "request_rate" or "max_concurrency"; an infinite value
 * is "inf"), "request_id", "agent_id" (the agent of its last token; null before any), "released_ms"
 * (its release, ms after the point's start), "prompt_tokens", "output_tokens", "completed",
 * "failure" (null unless it failed), "migrations", "ttft_ms", "tpot_ms", "e2e_ms" (null where not
 * measurable), "queue_ms" (how long its agent's engine held it before its first step, as the agent
 * reports it; null when unknown: not completed, or an endpoint run), "prefill_ms" (from the start of
 * its first step there to the end of the step of its first token, as the agent reports it; null when
 * unknown) and "token_arrivals_ms": every token's arrival, ms after the point's start (tokens of
 * one step report share a time). TTFT is the first arrival minus the release, E2E the last.
 */
final class RequestsJsonl {

  private static final JsonFactory JSON = new JsonFactory();

  private RequestsJsonl() {}

  /** Streams the file: a large sweep has hundreds of thousands of requests. */
  static void write(SweepReport report, Writer out) throws IOException {
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
      g.setRootValueSeparator(null); // the newline between objects is written here, after each flush
      for (SweepPoint point : report.points()) {
        for (RequestRecord r : point.requests()) {
          g.writeStartObject();
          axisValue(g, point);
          g.writeNumberField("request_id", r.requestId());
          g.writeStringField("agent_id", r.agentId());
          number(g, "released_ms", r.releasedMs());
          g.writeNumberField("prompt_tokens", r.promptTokens());
          g.writeNumberField("output_tokens", r.outputTokens());
          g.writeBooleanField("completed", r.completed());
          g.writeStringField("failure", r.failureReason());
          g.writeNumberField("migrations", r.migrations());
          number(g, "ttft_ms", r.ttftMs());
          number(g, "tpot_ms", r.tpotMs());
          number(g, "e2e_ms", r.e2eMs());
          number(g, "queue_ms", r.queueMs());
          number(g, "prefill_ms", r.prefillMs());
          g.writeArrayFieldStart("token_arrivals_ms");
          for (double t : r.tokenArrivalsMs()) g.writeNumber(t);
          g.writeEndArray();
          g.writeEndObject();
          g.flush();
          out.write('\n');
        }
      }
    }
  }

  private static void axisValue(JsonGenerator g, SweepPoint point) throws IOException {
    double v = point.axisValue();
    String key = point.axis().key();
    if (Double.isInfinite(v)) {
      g.writeStringField(key, "inf");
    } else if (point.axis() == SweepAxis.REQUEST_RATE) {
      g.writeNumberField(key, v);
    } else {
      g.writeNumberField(key, (long) v);
    }
  }

  private static void number(JsonGenerator g, String key, double value) throws IOException {
    if (Double.isFinite(value)) {
      g.writeNumberField(key, value);
    } else {
      g.writeNullField(key);
    }
  }
}
