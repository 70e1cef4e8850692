package io.decodefleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.ClusterTls;
import io.decodefleet.agent.ExposedPorts;
import io.decodefleet.agent.cli.ClusterTlsOptions;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The manifests keep their keys in Secrets the README's commands create, and use them: every cluster
 * member talks to the others over TLS with the stores of the mounted Secret, and `coordinator serve`
 * answers on the pod IP only over TLS and with the API key, the key coming from a Secret through the
 * environment (not the arguments, which the pod's spec and ps show).
 */
class SecretsTest {
  private static final List<String> STORE_OPTIONS = List.of("--cluster-key-store", "--cluster-key-store-password-file",
      "--cluster-trust-store", "--cluster-trust-store-password-file");

  static Stream<Arguments> members() {
    return ContainerContractTest.members();
  }

  /** Mount path → Secret name, for the container's mounts of Secret volumes. */
  private static Map<String, String> secretMounts(ManifestSet.PodTemplate t, Container c) {
    Map<String, String> mounts = new LinkedHashMap<>();
    for (VolumeMount m : c.getVolumeMounts()) {
      Volume v = t.spec().getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst()
          .orElseThrow(() -> new AssertionError(t.owner() + ": mounts a volume it does not define: " + m.getName()));
      if (v.getSecret() != null) {
        assertTrue(v.getSecret().getItems().isEmpty(), t.owner() + ": the whole Secret, its keys as file names");
        assertEquals(Boolean.TRUE, m.getReadOnly(), t.owner() + ": Secret " + v.getName() + " mounted read-only");
        mounts.put(m.getMountPath(), v.getSecret().getSecretName());
      }
    }
    return mounts;
  }

  /** The (Secret, key) a file path reads through a mount, or an assertion error naming what is wrong. */
  private static String[] secretFile(String what, String path, Map<String, String> mounts) {
    assertNotNull(path, what + " is not set");
    for (Map.Entry<String, String> m : mounts.entrySet()) {
      if (path.startsWith(m.getKey() + "/")) return new String[] {m.getValue(), path.substring(m.getKey().length() + 1)};
    }
    throw new AssertionError(what + " " + path + " lies under no mounted Secret (" + mounts + ")");
  }

  private static void assertDocumented(String what, String secret, String key) {
    Map<String, Set<String>> documented = DocumentedSecrets.keys();
    assertTrue(documented.containsKey(secret), what + ": Secret " + secret + " is not created in deploy/k8s/README.md "
        + "(it creates " + documented.keySet() + ")");
    assertTrue(documented.get(secret).contains(key), what + ": deploy/k8s/README.md puts no key " + key + " in Secret "
        + secret + " (" + documented.get(secret) + ")");
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("members")
  void everySecretAPodReadsIsOneTheReadmeCreatesWithThatKey(ManifestSet set, ManifestSet.PodTemplate t, Container c) {
    Map<String, String> mounts = secretMounts(t, c);
    mounts.values().forEach(secret -> assertTrue(DocumentedSecrets.keys().containsKey(secret), t.owner() + ": Secret "
        + secret + " is not created in deploy/k8s/README.md"));
    for (EnvVar var : c.getEnv()) {
      if (var.getValueFrom() != null && var.getValueFrom().getSecretKeyRef() != null) {
        assertDocumented(t.owner() + " " + var.getName(), var.getValueFrom().getSecretKeyRef().getName(),
            var.getValueFrom().getSecretKeyRef().getKey());
      }
    }
    ContainerCommandLine cl = new ContainerCommandLine(c, set, DownwardApi.EXAMPLE);
    List<String> values = new ArrayList<>(cl.args());
    values.addAll(cl.env().values());
    for (String value : values) {
      for (String mount : mounts.keySet()) {
        if (value.startsWith(mount + "/")) {
          String[] file = secretFile(t.owner(), value, mounts);
          assertDocumented(t.owner() + " " + value, file[0], file[1]);
        }
      }
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("members")
  void everyClusterMemberTalksTlsWithTheStoresOfAMountedSecret(ManifestSet set, ManifestSet.PodTemplate t,
      Container c) {
    ContainerCommandLine cl = new ContainerCommandLine(c, set, DownwardApi.EXAMPLE);
    assertEquals("true", cl.option("--cluster-tls"), t.owner() + ": the cluster port is on the pod network");
    Map<String, String> mounts = secretMounts(t, c);
    for (String option : STORE_OPTIONS) {
      String[] file = secretFile(t.owner() + " " + option, cl.option(option), mounts);
      assertEquals(DocumentedSecrets.CLUSTER_TLS, file[0], t.owner() + " " + option);
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("members")
  void serveAnswersBeyondLoopbackOnlyOverTlsAndWithTheKeyFromASecret(ManifestSet set, ManifestSet.PodTemplate t,
      Container c) {
    ContainerCommandLine cl = new ContainerCommandLine(c, set, DownwardApi.EXAMPLE);
    if (cl.args().isEmpty() || !cl.args().get(0).equals("serve")) return;
    Map<String, String> mounts = secretMounts(t, c);
    boolean exposed = !ExposedPorts.loopbackOnly(cl.option("--grpc-bind"))
        || !ExposedPorts.loopbackOnly(cl.option("--http-bind"));
    assertTrue(exposed, t.owner() + ": serve in a pod is for clients beyond it");
    assertEquals(List.of("decodefleet-api-tls", "tls.crt"), List.of(secretFile("--tls-cert", cl.option("--tls-cert"),
        mounts)));
    assertEquals(List.of("decodefleet-api-tls", "tls.key"), List.of(secretFile("--tls-key", cl.option("--tls-key"),
        mounts)));
    assertEquals(ContainerCommandLine.secretValue("decodefleet-api-key", "api-key"), cl.option("--api-key"),
        t.owner() + ": the API key comes from Secret decodefleet-api-key");
    assertFalse(cl.args().stream().anyMatch(a -> a.startsWith("--api-key")), t.owner() + ": the key in the arguments");
  }

  @Test
  void theReadmesCommandsMakeStoresThatTheDaemonSetsConfigurationOpens() throws Exception {
    // The DaemonSet's own paths, moved to where the README's commands left the Secret's files.
    ManifestSet fleet = ManifestSet.rendered(DeploySources.k8s().resolve("fleet"));
    DaemonSet ds = fleet.only(DaemonSet.class);
    ManifestSet.PodTemplate t = ManifestSet.template(ds).orElseThrow();
    Container c = t.spec().getContainers().get(0);
    Map<String, Path> mounts = new LinkedHashMap<>();
    secretMounts(t, c).forEach((path, secret) -> {
      assertEquals(DocumentedSecrets.CLUSTER_TLS, secret);
      try {
        mounts.put(path, DocumentedSecrets.clusterTls());
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    ContainerCommandLine cl = new ContainerCommandLine(c, fleet, DownwardApi.EXAMPLE).mounted(mounts);
    ClusterTlsOptions options = new ClusterTlsOptions();
    options.enabled = Boolean.parseBoolean(cl.option("--cluster-tls"));
    options.keyStore = Path.of(cl.option("--cluster-key-store"));
    options.keyStorePasswordFile = Path.of(cl.option("--cluster-key-store-password-file"));
    options.trustStore = Path.of(cl.option("--cluster-trust-store"));
    options.trustStorePasswordFile = Path.of(cl.option("--cluster-trust-store-password-file"));
    ClusterTls tls = options.resolve(Map.of());
    assertTrue(tls.enabled());
    assertEquals("tls-tcp", tls.config().getString("pekko.remote.artery.transport"));
  }
}
