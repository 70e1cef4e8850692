package io.decodefleet.coordinator.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.decodefleet.coordinator.run.RunOutcome;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus server (Debian's {@code prometheus} binary) scrapes the coordinator's /metrics every
 * second while a benchmark runs on a real cluster; after the run, its query API gives back the tokens
 * the run reported.
 */
class PrometheusScrapeTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  @Test
  void prometheusScrapesTheGeneratedTokensTheRunReported() throws Exception {
    assumeTrue(MetricsEndpointsPromtoolTest.onPath("prometheus"), "prometheus is not installed (Debian package "
        + "prometheus)");
    try (MetricsFleet fleet = new MetricsFleet()) {
      int webPort = MetricsFleet.freePort();
      Files.writeString(dir.resolve("prometheus.yml"), String.join("\n",
          "global:",
          "  scrape_interval: 1s",
          "  scrape_timeout: 1s",
          "scrape_configs:",
          "  - job_name: decodefleet-coordinator",
          "    static_configs:",
          "      - targets: ['" + fleet.coordinatorTarget() + "']",
          ""));
      Path log = dir.resolve("prometheus.log");
      Process prometheus = new ProcessBuilder("prometheus", "--config.file=" + dir.resolve("prometheus.yml"),
          "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + webPort)
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      try {
        String api = "http://127.0.0.1:" + webPort;
        awaitReady(api, prometheus, log);
        RunOutcome run = fleet.benchmark(8, 5);
        long tokens = run.result().totalOutputTokens();
        assertTrue(tokens > 0);
        // The run is over: the next scrape has every token. Poll until Prometheus holds it.
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        double scraped = Double.NaN;
        while (System.nanoTime() < deadline && scraped != tokens) {
          scraped = query(api, "sum(vllm:generation_tokens_total)");
          if (scraped != tokens) Thread.sleep(250);
        }
        assertEquals(tokens, scraped, "sum(vllm:generation_tokens_total) in Prometheus; its log: "
            + Files.readString(log));
        assertEquals(8, query(api, "sum(vllm:request_success_total)"));
        assertEquals(8, query(api, "sum(vllm:e2e_request_latency_seconds_count)"));
        assertEquals(1, query(api, "up{job=\"decodefleet-coordinator\"}"));
        everyDashboardQueryRuns(api);
      } finally {
        prometheus.destroy();
        if (!prometheus.waitFor(10, TimeUnit.SECONDS)) prometheus.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * Every query of the Grafana dashboard (deploy/grafana), its variables set to this scrape, is valid
   * PromQL on this Prometheus; those of the main panels find data after the run.
   */
  private static void everyDashboardQueryRuns(String api) throws Exception {
    Path root = Path.of("").toAbsolutePath();
    while (!Files.exists(root.resolve("deploy/grafana"))) root = root.getParent();
    JsonNode dashboard = JSON.readTree(root.resolve("deploy/grafana/decodefleet-dashboard.json").toFile());
    List<String> withData = List.of("Agents up", "Requests completed", "Output throughput", "Time to first token",
        "Time per output token", "Inter-token latency", "End-to-end latency", "Queue time", "Prefill time",
        "Queue: running and waiting", "KV-cache usage", "Step time per agent", "Steps by decode path");
    int queries = 0;
    // A rate needs two samples of a series: a series born in the run's last scrape may need one more.
    long deadline = System.nanoTime() + Duration.ofSeconds(8).toNanos();
    for (JsonNode panel : dashboard.get("panels")) {
      for (JsonNode target : panel.path("targets")) {
        String expr = target.get("expr").asText().replace("$job", "decodefleet-coordinator")
            .replace("$model_name", "tiny").replace("$__rate_interval", "20s").replace("$__range", "5m");
        boolean needsData = target.get("refId").asText().equals("A")
            && withData.contains(panel.get("title").asText());
        while (true) {
          JsonNode body = JSON.readTree(MetricsFleet.get(api + "/api/v1/query?query="
              + URLEncoder.encode(expr, StandardCharsets.UTF_8)));
          assertEquals("success", body.get("status").asText(), panel.get("title") + ": " + expr);
          boolean found = body.get("data").get("result").size() > 0;
          if (found || !needsData) break;
          assertTrue(System.nanoTime() < deadline, panel.get("title") + " has no data: " + expr);
          Thread.sleep(250);
        }
        queries++;
      }
    }
    assertTrue(queries >= 20, queries + " queries");
  }

  private static void awaitReady(String api, Process prometheus, Path log) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      assertTrue(prometheus.isAlive(), "prometheus exited: " + Files.readString(log));
      try {
        HttpResponse<String> r = MetricsFleet.HTTP.send(HttpRequest.newBuilder(URI.create(api + "/-/ready"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return;
      } catch (java.io.IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("prometheus not ready within 20 s: " + Files.readString(log));
  }

  /** The value of an instant query that yields one sample; NaN when it yields none (not scraped yet). */
  private static double query(String api, String promql) throws Exception {
    JsonNode body = JSON.readTree(MetricsFleet.get(api + "/api/v1/query?query="
        + URLEncoder.encode(promql, StandardCharsets.UTF_8)));
    assertEquals("success", body.get("status").asText(), body.toString());
    JsonNode result = body.get("data").get("result");
    if (result.isEmpty()) return Double.NaN;
    assertEquals(1, result.size(), body.toString());
    return Double.parseDouble(result.get(0).get("value").get(1).asText());
  }
}
