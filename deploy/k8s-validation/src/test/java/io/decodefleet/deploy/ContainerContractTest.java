package io.decodefleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each DecodeFleet container of every rendered kustomization agrees with the application it runs:
 * its arguments parse with the real command line, its named ports are the ports the application
 * listens on, its probes call Pekko Management's health checks, it advertises the pod IP, and it runs
 * as the image's non-root user within requests and limits.
 */
class ContainerContractTest {
  private static final BootstrapSettings BOOTSTRAP = BootstrapSettings.load();

  /** (set, template, container) for every container of every rendered kustomization and tool. */
  static Stream<Arguments> containers() {
    List<ManifestSet> sets = new ArrayList<>(ManifestSet.kustomizations().stream().map(ManifestSet::rendered).toList());
    sets.add(ManifestSet.file(DeploySources.k8s().resolve("tools/report-reader.yaml")));
    List<Arguments> all = new ArrayList<>();
    for (ManifestSet set : sets) {
      for (ManifestSet.PodTemplate t : set.podTemplates()) {
        for (Container c : t.spec().getContainers()) all.add(Arguments.of(set, t, c));
      }
    }
    return all.stream();
  }

  /** Only the cluster members' containers: those that run a DecodeFleet launcher as their entrypoint. */
  static Stream<Arguments> members() {
    return containers().filter(a -> BOOTSTRAP.selects(((ManifestSet.PodTemplate) a.get()[1]).labels()));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("members")
  void argumentsAreAcceptedByTheApplicationsCommandLine(ManifestSet set, ManifestSet.PodTemplate t, Container c) {
    ContainerCommandLine cl = new ContainerCommandLine(c, set, DownwardApi.EXAMPLE);
    assumeTrue(cl.hasOption("--kubernetes"), cl.application().launcher + " has no --kubernetes option yet (Cluster "
        + "Bootstrap through the Kubernetes API); its manifests need it to join the agents' cluster");
    cl.parse();
    assertTrue(cl.args().contains("--kubernetes"), t.owner() + ": must form the cluster through Cluster Bootstrap");
    assertFalse(cl.args().contains("--seed-nodes") || cl.env().containsKey("DECODEFLEET_SEED_NODES"),
        t.owner() + ": seed nodes and Cluster Bootstrap exclude each other");
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("members")
  void namedPortsAreThePortsTheApplicationListensOn(ManifestSet set, ManifestSet.PodTemplate t, Container c) {
    ContainerCommandLine cl = new ContainerCommandLine(c, set, DownwardApi.EXAMPLE);
    boolean agent = cl.application() == ContainerCommandLine.Application.GPU_AGENT;
    boolean serve = !cl.args().isEmpty() && cl.args().get(0).equals("serve");
    assertPort(c, "cluster", cl.option("--cluster-port"));
    assertPort(c, BOOTSTRAP.portName(), cl.option("--management-port"));
    if (serve) assertPort(c, "grpc", cl.option("--grpc-port"));
    if (!agent) assertPort(c, "metrics", cl.option("--metrics-port"));
    // serve's OpenAI API is a container port when it listens beyond the pod's loopback.
    boolean http = serve && !cl.option("--http-port").equals("-1")
        && !io.decodefleet.agent.ExposedPorts.loopbackOnly(cl.option("--http-bind"));
    if (http) assertPort(c, "http", cl.option("--http-port"));
    assertEquals((serve ? 3 : 2) + (agent ? 0 : 1) + (http ? 1 : 0), c.getPorts().size(),
        t.owner() + ": ports " + c.getPorts());
    if (agent) {
      // The daemon is left at the application's defaults: 2552 (Artery) and the configured management port.
      assertEquals("2552", cl.option("--cluster-port"));
      assertEquals(String.valueOf(BOOTSTRAP.managementPort()), cl.option("--management-port"));
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("members")
  void prometheusIsPointedAtThePortThatServesMetrics(ManifestSet set, ManifestSet.PodTemplate t, Container c) {
    // deploy/prometheus/prometheus.yml keeps the pods annotated prometheus.io/scrape and scrapes the
    // annotated port and path: the management port on an agent node, --metrics-port on a coordinator.
    ContainerCommandLine cl = new ContainerCommandLine(c, set, DownwardApi.EXAMPLE);
    boolean agent = cl.application() == ContainerCommandLine.Application.GPU_AGENT;
    Map<String, String> a = t.annotations();
    assertEquals("true", a.get("prometheus.io/scrape"), t.owner() + ": annotations " + a);
    assertEquals("/metrics", a.get("prometheus.io/path"), t.owner());
    String port = agent ? cl.option("--management-port") : cl.option("--metrics-port");
    assertEquals(port, a.get("prometheus.io/port"), t.owner() + ": the port that serves /metrics");
    assertTrue(c.getPorts().stream().anyMatch(p -> String.valueOf(p.getContainerPort()).equals(port)),
        t.owner() + ": a container port " + port);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("members")
  void noContainerNamesTheRenamedPortSettings(ManifestSet set, ManifestSet.PodTemplate t, Container c) {
    // Both CLIs refuse --port and DECODEFLEET_PORT (exit 2): --cluster-port, --grpc-port, DECODEFLEET_CLUSTER_PORT.
    ContainerCommandLine cl = new ContainerCommandLine(c, set, DownwardApi.EXAMPLE);
    assertFalse(cl.args().stream().anyMatch(a -> a.equals("--port") || a.startsWith("--port=")),
        t.owner() + ": --port was renamed, args " + cl.args());
    assertFalse(cl.env().containsKey("DECODEFLEET_PORT"), t.owner() + ": DECODEFLEET_PORT was renamed");
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("members")
  void theNodeBindsAndAdvertisesThePodIp(ManifestSet set, ManifestSet.PodTemplate t, Container c) {
    ContainerCommandLine cl = new ContainerCommandLine(c, set, DownwardApi.EXAMPLE);
    assertEquals(DownwardApi.POD_IP, cl.option("--bind"), t.owner() + ": discovery finds contact points by pod IP and "
        + "a node recognises itself among them only if it advertises that IP");
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("members")
  void probesCallPekkoManagementHealthChecksOnTheManagementPort(ManifestSet set, ManifestSet.PodTemplate t, Container c) {
    boolean agent = new ContainerCommandLine(c, set, DownwardApi.EXAMPLE).application()
        == ContainerCommandLine.Application.GPU_AGENT;
    if (agent) {
      assertNotNull(c.getLivenessProbe(), t.owner() + ": liveness probe");
      assertNotNull(c.getReadinessProbe(), t.owner() + ": readiness probe");
      assertHttp(c.getReadinessProbe(), BOOTSTRAP.readinessPath(), t.owner() + " readiness");
    }
    if (c.getLivenessProbe() != null) assertHttp(c.getLivenessProbe(), BOOTSTRAP.livenessPath(), t.owner() + " liveness");
    if (c.getStartupProbe() != null) assertHttp(c.getStartupProbe(), BOOTSTRAP.livenessPath(), t.owner() + " startup");
    Probe readiness = c.getReadinessProbe();
    if (readiness != null && readiness.getHttpGet() != null) assertHttp(readiness, BOOTSTRAP.readinessPath(), t.owner());
    if (readiness != null && readiness.getTcpSocket() != null) {
      String port = readiness.getTcpSocket().getPort().getStrVal();
      assertTrue(c.getPorts().stream().anyMatch(p -> p.getName().equals(port)), t.owner() + ": readiness port " + port);
    }
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("containers")
  void everyContainerRequestsAndLimitsCpuAndMemory(ManifestSet set, ManifestSet.PodTemplate t, Container c) {
    assertNotNull(c.getResources(), t.owner() + "/" + c.getName() + ": resources");
    Map<String, Quantity> requests = c.getResources().getRequests();
    Map<String, Quantity> limits = c.getResources().getLimits();
    for (String resource : List.of("cpu", "memory")) {
      assertTrue(requests.containsKey(resource) && limits.containsKey(resource),
          t.owner() + "/" + c.getName() + ": " + resource + " request and limit");
      assertTrue(Quantity.getAmountInBytes(requests.get(resource)).compareTo(Quantity.getAmountInBytes(limits.get(resource))) <= 0,
          t.owner() + "/" + c.getName() + ": " + resource + " request above its limit");
    }
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("containers")
  void containersRunAsTheImagesNonRootUserOnAReadOnlyRoot(ManifestSet set, ManifestSet.PodTemplate t, Container c) {
    ImageReference image = ImageReference.parse(c.getImage());
    assertEquals(DeploySources.version(), image.tag(), t.owner() + ": images are tagged with the project version");
    String launcher = ContainerCommandLine.Application.ofImage(c.getImage()).launcher;
    String uid = Dockerfile.read(DeploySources.docker().resolve(launcher + ".Dockerfile")).user().split(":")[0];
    var pod = t.spec().getSecurityContext();
    assertEquals(Boolean.TRUE, pod.getRunAsNonRoot(), t.owner() + ": runAsNonRoot");
    assertEquals(uid, String.valueOf(pod.getRunAsUser()), t.owner() + ": runAsUser is the image's USER");
    assertEquals(Boolean.FALSE, c.getSecurityContext().getAllowPrivilegeEscalation(), t.owner());
    assertEquals(Boolean.TRUE, c.getSecurityContext().getReadOnlyRootFilesystem(), t.owner());
    assertTrue(c.getSecurityContext().getCapabilities().getDrop().contains("ALL"), t.owner());
    boolean tmp = c.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/tmp"));
    boolean java = c.getCommand().isEmpty(); // the image's entrypoint: a launcher of the distribution
    assertTrue(!java || tmp, t.owner() + ": the JVM writes to /tmp, which must be a volume on a read-only root");
  }

  private static void assertPort(Container c, String name, String expected) {
    ContainerPort port = c.getPorts().stream().filter(p -> name.equals(p.getName())).findFirst()
        .orElseThrow(() -> new AssertionError(c.getName() + ": no port named " + name));
    assertEquals(expected, String.valueOf(port.getContainerPort()), c.getName() + ": port " + name);
    assertEquals("TCP", port.getProtocol(), c.getName() + ": port " + name);
  }

  private static void assertHttp(Probe probe, String path, String what) {
    assertNotNull(probe.getHttpGet(), what + ": an HTTP probe");
    assertEquals(path, probe.getHttpGet().getPath(), what + ": path");
    assertEquals(BOOTSTRAP.portName(), probe.getHttpGet().getPort().getStrVal(), what + ": the named management port");
  }
}
