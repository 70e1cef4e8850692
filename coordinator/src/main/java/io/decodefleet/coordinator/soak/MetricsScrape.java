package io.decodefleet.coordinator.soak;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * One scrape of a process's {@code GET /metrics} in the Prometheus text format: every sample by its
 * series as written ({@code name} or {@code name{labels}}).
 */
final class MetricsScrape {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final Map<String, Double> samples;

  private MetricsScrape(Map<String, Double> samples) {
    this.samples = samples;
  }

  /** Scrapes http://127.0.0.1:{port}/metrics. */
  static MetricsScrape of(HttpClient http, int port) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
        .timeout(TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    if (r.statusCode() != 200) throw new IOException("GET /metrics on port " + port + ": HTTP " + r.statusCode());
    return parse(r.body());
  }

  /** Reads the text format: comment lines skipped, a label value may hold spaces. */
  static MetricsScrape parse(String text) {
    Map<String, Double> samples = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) continue;
      int end = line.indexOf('{') >= 0 ? line.lastIndexOf('}') + 1 : line.indexOf(' ');
      if (end <= 0 || end >= line.length()) continue;
      String[] rest = line.substring(end).trim().split("\\s+");
      try {
        samples.put(line.substring(0, end), Double.parseDouble(rest[0]));
      } catch (NumberFormatException e) {
        // not a sample line
      }
    }
    return new MetricsScrape(samples);
  }

  /** The sample of exactly this series, e.g. {@code jvm_gc_collection_seconds_count{gc="G1 Old Generation"}}. */
  OptionalDouble sample(String series) {
    Double v = samples.get(series);
    return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
  }

  /** The sum of every series of metric {@code name}, whatever its labels; 0 when there is none. */
  double sum(String name) {
    double total = 0;
    for (Map.Entry<String, Double> e : samples.entrySet()) {
      String series = e.getKey();
      if (series.equals(name) || series.startsWith(name + "{")) total += e.getValue();
    }
    return total;
  }
}
