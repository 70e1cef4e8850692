package io.decodefleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * deploy/prometheus/prometheus.yml, the plain scrape configuration for the manifests: it discovers the
 * decodefleet namespace's pods and keeps those annotated for scraping, and Prometheus's own
 * {@code promtool check config} accepts it (with its Kubernetes discovery swapped for a static target,
 * since Debian's build of Prometheus leaves Kubernetes discovery out).
 */
class PrometheusScrapeConfigTest {
  private static final Path CONFIG = DeploySources.root().resolve("deploy/prometheus/prometheus.yml");

  @TempDir
  Path dir;

  @Test
  void itDiscoversTheNamespacesPodsAndKeepsTheAnnotatedOnes() throws Exception {
    JsonNode job = ManifestYaml.YAML.readTree(Files.readString(CONFIG)).get("scrape_configs").get(0);
    JsonNode sd = job.get("kubernetes_sd_configs").get(0);
    assertEquals("pod", sd.get("role").asString());
    assertEquals("decodefleet", sd.get("namespaces").get("names").get(0).asString());
    JsonNode keep = job.get("relabel_configs").get(0);
    assertEquals("keep", keep.get("action").asString());
    assertEquals("__meta_kubernetes_pod_annotation_prometheus_io_scrape", keep.get("source_labels").get(0).asString());
  }

  @Test
  void promtoolAcceptsIt() throws Exception {
    assumeTrue(onPath("promtool"), "promtool is not installed (Debian package prometheus)");
    JsonNode root = ManifestYaml.YAML.readTree(Files.readString(CONFIG));
    for (JsonNode job : root.get("scrape_configs")) {
      ObjectNode j = (ObjectNode) job;
      j.remove("kubernetes_sd_configs");
      j.putArray("static_configs").addObject().putArray("targets").add("127.0.0.1:9464");
    }
    Path copy = dir.resolve("prometheus.yml");
    Files.writeString(copy, ManifestYaml.YAML.writeValueAsString(root));
    Process p = new ProcessBuilder("promtool", "check", "config", copy.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "promtool did not finish");
    assertEquals(0, p.exitValue(), out);
  }

  private static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) return false;
    for (String d : path.split(File.pathSeparator)) {
      if (new File(d, command).canExecute()) return true;
    }
    return false;
  }
}
