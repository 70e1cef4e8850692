package io.decodefleet.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateRunningBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodIPBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * gpu-agent pods of the rendered DaemonSet, each a real daemon process on its own loopback address
 * (its "pod IP"), with what Kubernetes gives a pod around it: a service account folder (token, ca.crt,
 * namespace), KUBERNETES_SERVICE_HOST/PORT pointing at a {@link KubernetesApiStub} that lists these
 * pods, and DNS records for pod names (a hosts file: &lt;a-b-c-d&gt;.&lt;ns&gt;.pod.&lt;domain&gt;).
 * Nothing of the application's configuration is changed; only the service account paths are set to the
 * folder, and the paths under a Secret's mount to a folder the README's commands filled
 * ({@link DocumentedSecrets}), as the pod's volume mounts would put them.
 */
final class LoopbackFleet implements AutoCloseable {

  /** One GPU node: the pod IP (a 127/8 address) and the node name. */
  record Node(String podIp, String nodeName) {}

  private static final HttpClient HTTP = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
      .connectTimeout(Duration.ofSeconds(2)).build();

  private final KubernetesApiStub api;
  private final List<AgentDaemonProcess> daemons = new ArrayList<>();
  private final List<String> managementUrls = new ArrayList<>();

  private LoopbackFleet(KubernetesApiStub api) {
    this.api = api;
  }

  /**
   * @param envOverrides values that replace the manifest's environment (e.g. a ConfigMap key), or empty
   */
  static LoopbackFleet start(Path dir, ManifestSet fleet, List<Node> nodes, Map<String, String> envOverrides)
      throws Exception {
    BootstrapSettings bootstrap = BootstrapSettings.load();
    DaemonSet ds = fleet.only(DaemonSet.class);
    String namespace = ds.getMetadata().getNamespace();

    Path account = Files.createDirectories(dir.resolve("serviceaccount"));
    SelfSignedCertificate certificate = SelfSignedCertificate.create(account);
    String token = UUID.randomUUID().toString();
    Files.writeString(account.resolve("token"), token);
    Files.writeString(account.resolve("namespace"), namespace);
    Path conf = dir.resolve("serviceaccount.conf");
    Files.writeString(conf, "pekko.discovery.kubernetes-api {\n"
        + "  api-ca-path = \"" + certificate.pem() + "\"\n"
        + "  api-token-path = \"" + account.resolve("token") + "\"\n"
        + "  pod-namespace-path = \"" + account.resolve("namespace") + "\"\n}\n");
    StringBuilder hosts = new StringBuilder("127.0.0.1 localhost " + hostName() + "\n");
    for (Node n : nodes) {
      hosts.append(n.podIp()).append(' ').append(n.podIp().replace('.', '-')).append('.').append(namespace)
          .append(".pod.").append(bootstrap.podDomain()).append('\n');
    }
    Path hostsFile = Files.writeString(dir.resolve("hosts"), hosts);

    LoopbackFleet started = new LoopbackFleet(KubernetesApiStub.start(certificate.serverContext(), token));
    try {
      int i = 0;
      for (Node n : nodes) {
        String podName = ds.getMetadata().getName() + "-" + (char) ('a' + i++) + "x7k2";
        Map<String, String> downward = Map.of("status.podIP", n.podIp(), "spec.nodeName", n.nodeName(),
            "metadata.name", podName, "metadata.namespace", namespace);
        Container container = ds.getSpec().getTemplate().getSpec().getContainers().get(0);
        ContainerCommandLine cl = new ContainerCommandLine(container, fleet, downward)
            .mounted(secretMounts(ds.getSpec().getTemplate().getSpec(), container));
        int cluster = Integer.parseInt(cl.option("--cluster-port"));
        int management = Integer.parseInt(cl.option("--management-port"));
        assertFree(n.podIp(), cluster);
        assertFree(n.podIp(), management);
        started.api.addPod(pod(ds, podName, n));
        Map<String, String> env = new LinkedHashMap<>(envOverrides);
        env.put("KUBERNETES_SERVICE_HOST", "127.0.0.1");
        env.put("KUBERNETES_SERVICE_PORT", String.valueOf(started.api.port()));
        started.daemons.add(AgentDaemonProcess.start(cl, env, List.of("-Dconfig.file=" + conf,
            "-Djdk.net.hosts.file=" + hostsFile), dir.resolve(podName + ".log")));
        started.managementUrls.add("http://" + n.podIp() + ":" + management);
      }
    } catch (Exception | Error e) {
      started.close();
      throw e;
    }
    return started;
  }

  /** The container's Secret mounts (mount path → a folder holding the Secret's keys as files). */
  private static Map<String, Path> secretMounts(PodSpec pod, Container container) throws Exception {
    Map<String, Path> mounts = new LinkedHashMap<>();
    for (var mount : container.getVolumeMounts()) {
      var volume = pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
      if (volume.getSecret() == null) continue;
      if (!volume.getSecret().getSecretName().equals(DocumentedSecrets.CLUSTER_TLS)) {
        throw new IllegalStateException("no stand-in for Secret " + volume.getSecret().getSecretName());
      }
      mounts.put(mount.getMountPath(), DocumentedSecrets.clusterTls());
    }
    return mounts;
  }

  /** This machine's name, so that a lookup of it through the hosts file still answers; "" if unknown. */
  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "";
    }
  }

  /** A running pod of the DaemonSet as the API server lists it. */
  private static Pod pod(DaemonSet ds, String name, Node node) {
    PodSpec spec = ManifestYaml.JSON.convertValue(ds.getSpec().getTemplate().getSpec(), PodSpec.class);
    spec.setNodeName(node.nodeName());
    Container container = spec.getContainers().get(0);
    String started = "2026-11-22T00:00:00Z";
    return new PodBuilder()
        .withNewMetadata().withName(name).withNamespace(ds.getMetadata().getNamespace())
        .withLabels(ds.getSpec().getTemplate().getMetadata().getLabels()).withUid(UUID.randomUUID().toString())
        .withCreationTimestamp(started).endMetadata()
        .withSpec(spec)
        .withNewStatus().withPhase("Running").withPodIP(node.podIp()).withPodIPs(new PodIPBuilder().withIp(node.podIp())
            .build()).withHostIP(node.podIp()).withStartTime(started)
        .withContainerStatuses(new ContainerStatusBuilder().withName(container.getName()).withImage(container.getImage())
            .withReady(false).withStarted(true).withRestartCount(0).withState(new ContainerStateBuilder()
                .withRunning(new ContainerStateRunningBuilder().withStartedAt(started).build()).build()).build())
        .endStatus().build();
  }

  private static void assertFree(String ip, int port) {
    try (ServerSocket probe = new ServerSocket()) {
      probe.bind(new InetSocketAddress(ip, port));
    } catch (IOException e) {
      throw new IllegalStateException(ip + ":" + port + " is taken (" + e.getMessage() + "): another run of this test?");
    }
  }

  KubernetesApiStub api() {
    return api;
  }

  List<AgentDaemonProcess> daemons() {
    return daemons;
  }

  /** GET a management path of node i; the status code and body, or -1 if it does not answer. */
  HttpResponse<String> management(int i, String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(managementUrls.get(i) + path)).timeout(Duration.ofSeconds(3))
          .build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Node i's view of the cluster (Pekko Management's /cluster/members): member address → status. */
  Map<String, String> members(int i) {
    HttpResponse<String> response = management(i, "/cluster/members");
    Map<String, String> members = new LinkedHashMap<>();
    if (response == null || response.statusCode() != 200) return members;
    JsonNode json = ManifestYaml.JSON.readTree(response.body());
    for (JsonNode m : json.path("members")) members.put(m.path("node").asString(), m.path("status").asString());
    return members;
  }

  /** Every daemon's log, for a failure message. */
  String diagnostics() {
    List<KubernetesApiStub.Request> requests = api.requests();
    StringBuilder out = new StringBuilder("API requests: " + requests.size() + ", distinct: "
        + new LinkedHashSet<>(requests));
    for (int i = 0; i < daemons.size(); i++) {
      out.append("\n--- node ").append(i).append(daemons.get(i).alive() ? " (running)" : " (exited)").append(":\n")
          .append(daemons.get(i).output());
    }
    return out.toString();
  }

  @Override
  public void close() throws InterruptedException {
    daemons.forEach(AgentDaemonProcess::terminate);
    for (AgentDaemonProcess d : daemons) d.awaitExit(20);
    api.close();
  }
}
