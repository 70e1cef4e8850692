package io.decodefleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.decodefleet.coordinator.node.CoordinatorRole;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Labels, selectors, names and RBAC agree between the objects of each rendered kustomization and with
 * the discovery settings in decodefleet-cluster.conf, so that Cluster Bootstrap finds exactly the pods
 * that are cluster members, and every reference resolves.
 */
class ClusterWiringTest {
  private static final BootstrapSettings BOOTSTRAP = BootstrapSettings.load();

  static Stream<ManifestSet> rendered() {
    return ManifestSet.kustomizations().stream().map(ManifestSet::rendered);
  }

  @Test
  void discoveryListsPodsThroughTheKubernetesApiByTheManagementPortName() {
    assertEquals("kubernetes-api", BOOTSTRAP.discoveryMethod());
    assertEquals(Map.of("app.kubernetes.io/part-of", "decodefleet"), BOOTSTRAP.podSelector());
    assertEquals("management", BOOTSTRAP.portName());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rendered")
  void clusterMembersAreExactlyThePodsTheDiscoverySelectsAndTheyExposeTheManagementPort(ManifestSet set) {
    long members = 0;
    for (ManifestSet.PodTemplate t : set.podTemplates()) {
      boolean selected = BOOTSTRAP.selects(t.labels());
      boolean management = t.spec().getContainers().stream().flatMap(c -> c.getPorts().stream())
          .anyMatch(p -> BOOTSTRAP.portName().equals(p.getName()));
      assertEquals(selected, management, set + ": " + t.owner() + ": selected by " + BOOTSTRAP.podSelector()
          + " = " + selected + ", but has a '" + BOOTSTRAP.portName() + "' port = " + management);
      if (selected) members++;
    }
    assertTrue(members >= 1, set + ": no cluster member");
    assertTrue(set.all(DaemonSet.class).stream().allMatch(d -> BOOTSTRAP.selects(d.getSpec().getTemplate().getMetadata()
        .getLabels())), set + ": the gpu-agent DaemonSet's pods must be cluster members");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rendered")
  void workloadSelectorsSelectTheirOwnPodsAndNoOtherWorkloads(ManifestSet set) {
    for (HasMetadata w : set.objects()) {
      LabelSelector selector = w instanceof DaemonSet d ? d.getSpec().getSelector()
          : w instanceof Deployment d ? d.getSpec().getSelector() : null;
      if (selector == null) continue;
      assertTrue(selector.getMatchExpressions().isEmpty(), w.getMetadata().getName() + ": matchExpressions are not checked");
      for (ManifestSet.PodTemplate t : set.podTemplates()) {
        boolean own = t.workload() == w;
        assertEquals(own, selects(selector.getMatchLabels(), t.labels()),
            set + ": " + w.getKind() + "/" + w.getMetadata().getName() + " selector vs " + t.owner());
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rendered")
  void theDisruptionBudgetCoversExactlyTheAgentsOneNodeAtATime(ManifestSet set) {
    PodDisruptionBudget pdb = set.only(PodDisruptionBudget.class);
    DaemonSet agents = set.only(DaemonSet.class);
    for (ManifestSet.PodTemplate t : set.podTemplates()) {
      assertEquals(t.workload() == agents, selects(pdb.getSpec().getSelector().getMatchLabels(), t.labels()),
          set + ": PodDisruptionBudget selector vs " + t.owner());
    }
    assertEquals(1, pdb.getSpec().getMaxUnavailable().getIntVal(), "one GPU node's agent at a time");
    // Agents are unready until a coordinator registers them; such idle pods must stay evictable.
    assertEquals("AlwaysAllow", pdb.getSpec().getUnhealthyPodEvictionPolicy());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rendered")
  void servicesAreHeadlessAndReachANamedPortOfThePodsTheySelect(ManifestSet set) {
    for (Service service : set.all(Service.class)) {
      assertEquals("None", service.getSpec().getClusterIP(), service.getMetadata().getName() + " must be headless");
      List<ManifestSet.PodTemplate> selected = set.podTemplates().stream()
          .filter(t -> selects(service.getSpec().getSelector(), t.labels())).toList();
      assertEquals(1, selected.size(), service.getMetadata().getName() + " selects " + selected);
      for (ServicePort port : service.getSpec().getPorts()) {
        String name = port.getTargetPort().getStrVal();
        ContainerPort target = selected.get(0).spec().getContainers().stream().flatMap(c -> c.getPorts().stream())
            .filter(p -> p.getName().equals(name)).findFirst()
            .orElseThrow(() -> new AssertionError(service.getMetadata().getName() + ": no container port named " + name));
        assertEquals(port.getPort(), target.getContainerPort(), "service port and container port " + name);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rendered")
  void clusterMembersRunAsAServiceAccountAllowedToListPodsOfTheirNamespace(ManifestSet set) {
    for (ManifestSet.PodTemplate t : set.podTemplates()) {
      if (!BOOTSTRAP.selects(t.labels())) continue;
      String account = t.spec().getServiceAccountName();
      ServiceAccount sa = set.named(ServiceAccount.class, account)
          .orElseThrow(() -> new AssertionError(set + ": " + t.owner() + " runs as missing ServiceAccount " + account));
      assertNotEquals(Boolean.FALSE, sa.getAutomountServiceAccountToken(), "discovery reads the mounted token");
      assertNotEquals(Boolean.FALSE, t.spec().getAutomountServiceAccountToken(), "discovery reads the mounted token");
      String namespace = sa.getMetadata().getNamespace();
      boolean allowed = false;
      for (RoleBinding binding : set.all(RoleBinding.class)) {
        boolean boundToSa = binding.getSubjects().stream().anyMatch(s -> isAccount(s, account, namespace));
        if (!boundToSa || !namespace.equals(binding.getMetadata().getNamespace())) continue;
        assertEquals("Role", binding.getRoleRef().getKind(), "a namespaced Role, not cluster-wide rights");
        Role role = set.named(Role.class, binding.getRoleRef().getName())
            .orElseThrow(() -> new AssertionError(set + ": RoleBinding refers to missing Role " + binding.getRoleRef().getName()));
        allowed |= role.getRules().stream().anyMatch(ClusterWiringTest::readsPods);
      }
      assertTrue(allowed, set + ": " + t.owner() + ": ServiceAccount " + account + " may not get/watch/list pods");
    }
  }

  /**
   * The resolver of every cluster member, as its environment configures it: lease-majority (the
   * side that takes the lease goes on; without Kubernetes members are counted instead), counting the
   * coordinator role (the side with the coordinator takes the lease first), with a lease whose API
   * group and resource the member's service account may get, create and update.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("rendered")
  void clusterMembersResolvePartitionsWithALeaseTheirServiceAccountMayTake(ManifestSet set) {
    String sbr = "pekko.cluster.split-brain-resolver.";
    Map<String, String> downward = Map.of("status.podIP", "10.1.2.3", "spec.nodeName", "gpu-node-1",
        "metadata.name", "pod-x", "metadata.namespace", "decodefleet");
    for (ManifestSet.PodTemplate t : set.podTemplates()) {
      if (!BOOTSTRAP.selects(t.labels())) continue;
      for (Container c : t.spec().getContainers()) {
        Map<String, String> env = new ContainerCommandLine(c, set, downward).env();
        Config config = BootstrapSettings.config(env);
        assertEquals("lease-majority", config.getString(sbr + "active-strategy"), t.owner() + ": the resolver");
        assertEquals(CoordinatorRole.NAME, config.getString(sbr + "lease-majority.role"), t.owner());
        String lease = config.getString(sbr + "lease-majority.lease-implementation");
        String leaseClass = config.getString(lease + ".lease-class");
        String group = leaseClass.endsWith(".NativeKubernetesLease") ? "coordination.k8s.io"
            : leaseClass.endsWith(".KubernetesLease") ? "pekko.apache.org" : null;
        assertNotEquals(null, group, "a Kubernetes lease, not " + leaseClass);
        String account = t.spec().getServiceAccountName();
        String namespace = set.named(ServiceAccount.class, account).orElseThrow().getMetadata().getNamespace();
        boolean allowed = false;
        for (RoleBinding binding : set.all(RoleBinding.class)) {
          if (binding.getSubjects().stream().noneMatch(s -> isAccount(s, account, namespace))) continue;
          Role role = set.named(Role.class, binding.getRoleRef().getName()).orElseThrow();
          allowed |= role.getRules().stream().anyMatch(r -> r.getApiGroups().contains(group)
              && r.getResources().contains("leases") && r.getVerbs().containsAll(List.of("get", "create", "update")));
        }
        assertTrue(allowed, set + ": " + t.owner() + ": ServiceAccount " + account + " may not take " + group
            + " leases");
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rendered")
  void everyNamespacedObjectIsInTheNamespaceTheKustomizationCreates(ManifestSet set) {
    String namespace = set.only(Namespace.class).getMetadata().getName();
    for (HasMetadata o : set.objects()) {
      if (o instanceof Namespace) continue;
      assertEquals(namespace, o.getMetadata().getNamespace(), set + ": " + o.getKind() + "/" + o.getMetadata().getName());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rendered")
  void everyConfigMapAndVolumeClaimAPodRefersToExists(ManifestSet set) {
    for (ManifestSet.PodTemplate t : set.podTemplates()) {
      for (Container c : t.spec().getContainers()) {
        for (EnvFromSource from : c.getEnvFrom()) set.configMap(from.getConfigMapRef().getName());
        for (EnvVar var : c.getEnv()) {
          if (var.getValueFrom() != null && var.getValueFrom().getConfigMapKeyRef() != null) {
            assertTrue(set.configMap(var.getValueFrom().getConfigMapKeyRef().getName()).getData()
                .containsKey(var.getValueFrom().getConfigMapKeyRef().getKey()), t.owner() + ": " + var.getName());
          }
        }
      }
      for (Volume v : t.spec().getVolumes()) {
        if (v.getConfigMap() != null) set.configMap(v.getConfigMap().getName());
        if (v.getPersistentVolumeClaim() != null) {
          assertTrue(set.named(PersistentVolumeClaim.class, v.getPersistentVolumeClaim().getClaimName()).isPresent(),
              set + ": " + t.owner() + " mounts missing claim " + v.getPersistentVolumeClaim().getClaimName());
        }
      }
    }
  }

  @Test
  void theReportReaderIsNoClusterMemberAndReadsTheBenchmarksVolume() {
    ManifestSet reader = ManifestSet.file(DeploySources.k8s().resolve("tools/report-reader.yaml"));
    ManifestSet benchmark = ManifestSet.rendered(DeploySources.k8s().resolve("benchmark"));
    ManifestSet.PodTemplate pod = reader.podTemplates().get(0);
    assertFalse(BOOTSTRAP.selects(pod.labels()), "a pod the discovery selects would be taken for a contact point");
    String claim = pod.spec().getVolumes().stream().filter(v -> v.getPersistentVolumeClaim() != null).findFirst()
        .orElseThrow().getPersistentVolumeClaim().getClaimName();
    PersistentVolumeClaim pvc = benchmark.named(PersistentVolumeClaim.class, claim)
        .orElseThrow(() -> new AssertionError("the benchmark defines no claim " + claim));
    assertEquals(pvc.getMetadata().getNamespace(), pod.workload().getMetadata().getNamespace());
  }

  private static boolean isAccount(Subject s, String name, String namespace) {
    return "ServiceAccount".equals(s.getKind()) && name.equals(s.getName()) && namespace.equals(s.getNamespace());
  }

  private static boolean readsPods(PolicyRule rule) {
    return rule.getApiGroups().contains("") && rule.getResources().contains("pods")
        && rule.getVerbs().containsAll(List.of("get", "watch", "list"));
  }

  static boolean selects(Map<String, String> selector, Map<String, String> labels) {
    return selector != null && !selector.isEmpty()
        && selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }
}
