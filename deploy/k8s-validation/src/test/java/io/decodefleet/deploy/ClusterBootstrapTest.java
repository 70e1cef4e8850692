package io.decodefleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster Bootstrap as the images run it: real gpu-agent daemons started with the rendered DaemonSet's
 * arguments and environment and the unchanged decodefleet-cluster.conf find each other through a stub
 * of the Kubernetes API's pod listing (HTTPS, bearer token, label selector) and form one cluster, over
 * TLS with mutual authentication, with the stores deploy/k8s/README.md's commands make.
 */
class ClusterBootstrapTest {
  private static final long DEADLINE_MS = 45_000;

  @TempDir
  Path dir;

  @Test
  void twoGpuNodesFormOneClusterThroughTheKubernetesApi() throws Exception {
    ManifestSet fleet = ManifestSet.rendered(DeploySources.k8s().resolve("fleet"));
    List<LoopbackFleet.Node> nodes = List.of(new LoopbackFleet.Node("127.0.86.1", "gpu-node-1"),
        new LoopbackFleet.Node("127.0.86.2", "gpu-node-2"));
    // The manifest's own required contact points (2): the two nodes found through the API suffice.
    try (LoopbackFleet running = LoopbackFleet.start(dir, fleet, nodes, Map.of())) {
      awaitMembers(running, 0, m -> m.size() == 2 && m.values().stream().allMatch("Up"::equals));
      awaitMembers(running, 1, m -> m.size() == 2 && m.values().stream().allMatch("Up"::equals));
      assertEquals(running.members(0).keySet(), running.members(1).keySet(), "both nodes see the same cluster");
      assertTrue(running.members(0).containsKey("pekko://decodefleet@127.0.86.1:2552"), running.members(0).toString());
      assertTrue(running.daemons().get(0).output().contains("(TLS, mutual authentication"),
          "the DaemonSet's agents talk TLS:\n" + running.daemons().get(0).output());

      String selector = String.join(",", BootstrapSettings.load().podSelector().entrySet().stream()
          .map(e -> e.getKey() + "=" + e.getValue()).toList());
      KubernetesApiStub.Request first = running.api().requests().get(0);
      assertEquals("/api/v1/namespaces/decodefleet/pods", first.path(), "the namespace from the service account");
      assertEquals(selector, first.labelSelector(), "the discovery's label selector");
      assertEquals(200, first.status(), "the token and selector were accepted");

      HttpResponse<String> alive = running.management(0, "/alive");
      HttpResponse<String> ready = running.management(0, "/ready");
      assertNotNull(alive, "the liveness endpoint answers");
      assertEquals(200, alive.statusCode(), "/alive");
      assertNotEquals(200, ready.statusCode(), "/ready waits for a coordinator to register the node's agents "
          + "(deploy/k8s/README.md and the PodDisruptionBudget rely on this)");

      // What the kubelet does at eviction: SIGTERM, then SIGKILL after the grace period.
      long grace = fleet.only(DaemonSet.class).getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();
      long start = System.nanoTime();
      running.daemons().get(1).terminate();
      int exit = running.daemons().get(1).awaitExit(grace);
      long seconds = (System.nanoTime() - start) / 1_000_000_000L;
      assertEquals(0, exit, "SIGTERM drains, leaves and exits 0 within the grace period (" + grace + " s)\n"
          + running.diagnostics());
      awaitMembers(running, 0, m -> m.equals(Map.of("pekko://decodefleet@127.0.86.1:2552", "Up")));
      assertTrue(seconds < grace, "stopped in " + seconds + " s");
    }
  }

  @Test
  void aSingleNodeFoundsTheClusterWithOneRequiredContactPoint() throws Exception {
    ManifestSet fleet = ManifestSet.rendered(DeploySources.k8s().resolve("fleet"));
    String key = "DECODEFLEET_REQUIRED_CONTACT_POINTS";
    assertTrue(fleet.configMap("decodefleet-cluster").getData().containsKey(key), "the manifests set " + key);
    List<LoopbackFleet.Node> nodes = List.of(new LoopbackFleet.Node("127.0.86.3", "gpu-node-3"));
    try (LoopbackFleet running = LoopbackFleet.start(dir, fleet, nodes, Map.of(key, "1"))) {
      awaitMembers(running, 0, m -> m.equals(Map.of("pekko://decodefleet@127.0.86.3:2552", "Up")));
    }
  }

  private static void awaitMembers(LoopbackFleet running, int node, Predicate<Map<String, String>> formed)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + DEADLINE_MS;
    Map<String, String> last = Map.of();
    while (System.currentTimeMillis() < deadline) {
      last = running.members(node);
      if (formed.test(last)) return;
      if (running.daemons().stream().anyMatch(AgentDaemonProcess::crashed)) break;
      Thread.sleep(250);
    }
    fail("node " + node + " did not see the cluster formed within " + DEADLINE_MS / 1000 + " s; last members " + last
        + "\n" + running.diagnostics());
  }
}
