package io.decodefleet.agent.observability;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Accept;

/**
 * {@code GET /metrics} of one process: its registry in the Prometheus text format (or OpenMetrics,
 * when the scraper's {@code Accept} header prefers it), written by the Prometheus Java client's
 * exposition writers. The JVM and process metrics join the registry on the first scrape, so a
 * registry that is never served costs nothing.
 *
 * <p>Names with ':' (vLLM's {@code vllm:...}) need nothing special: client_java 1.x validates metric
 * names against Prometheus's classic charset {@code [a-zA-Z_:][a-zA-Z0-9_:]*}, which has the colon,
 * and none of its escaping schemes rewrites a colon, so they go out as written in both text formats
 * (the protobuf format is not on the classpath; a scraper that prefers it gets the text format).
 */
public final class MetricsEndpoint {
  private static final ExpositionFormats FORMATS = ExpositionFormats.init();

  private final PrometheusRegistry registry;
  private volatile boolean jvmRegistered;

  /** What one scrape returns. */
  public record Scrape(String contentType, byte[] body) {}

  public MetricsEndpoint(PrometheusRegistry registry) {
    this.registry = registry;
  }

  /** The registry in the format that {@code accept} (an HTTP Accept header; null: none) prefers. */
  public Scrape scrape(String accept) {
    registerJvmMetrics();
    ExpositionFormatWriter writer = FORMATS.findWriter(accept);
    if (!writer.isAvailable()) writer = FORMATS.getPrometheusTextFormatWriter();
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 << 10);
    try {
      writer.write(out, registry.scrape(), EscapingScheme.fromAcceptHeader(accept));
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return new Scrape(writer.getContentType(), out.toByteArray());
  }

  /** The answer to an HTTP {@code GET /metrics}. */
  public HttpResponse respond(HttpRequest request) {
    String accept = request.getHeader(Accept.class).map(h -> h.value()).orElse(null);
    Scrape scrape = scrape(accept);
    return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.parse(scrape.contentType()),
        scrape.body()));
  }

  private void registerJvmMetrics() {
    if (jvmRegistered) return;
    synchronized (this) {
      if (!jvmRegistered) JvmMetrics.builder().register(registry); // once per registry (it checks too)
      jvmRegistered = true;
    }
  }
}
