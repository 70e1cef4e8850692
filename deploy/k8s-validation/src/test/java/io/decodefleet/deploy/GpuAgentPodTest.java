package io.decodefleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.PodSpec;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The gpu-agent DaemonSet of every rendered kustomization: one pod per GPU node holding all its GPUs,
 * as many agents as GPUs, NCCL's shared memory and environment, and a termination grace period that
 * outlasts the drain.
 */
class GpuAgentPodTest {
  private static final String GPU = "nvidia.com/gpu";

  static Stream<ManifestSet> rendered() {
    return ManifestSet.kustomizations().stream().map(ManifestSet::rendered);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rendered")
  void eachGpuNodeRunsOneAgentPodHoldingAllItsGpus(ManifestSet set) {
    DaemonSet ds = set.only(DaemonSet.class);
    PodSpec pod = ds.getSpec().getTemplate().getSpec();
    assertFalse(pod.getNodeSelector().isEmpty(), "GPU nodes only: a node selector");
    assertTrue(pod.getTolerations().stream().anyMatch(t -> GPU.equals(t.getKey()) && "NoSchedule".equals(t.getEffect())),
        "tolerates the usual taint of GPU nodes");
    Container agent = agent(pod);
    Quantity requested = agent.getResources().getRequests().get(GPU);
    Quantity limited = agent.getResources().getLimits().get(GPU);
    assertNotNull(limited, "the agent's GPUs are a limit");
    assertEquals(limited, requested, "extended resources: request equals limit");
    int gpus = Integer.parseInt(limited.getAmount());
    assertTrue(gpus >= 1, "at least one GPU");
    ContainerCommandLine cl = new ContainerCommandLine(agent, set, DownwardApi.EXAMPLE);
    assertEquals(String.valueOf(gpus), cl.option("--cpu-agents"), set + ": one agent per GPU of the node");
    for (ManifestSet.PodTemplate t : set.podTemplates()) {
      if (t.workload() == ds) continue;
      t.spec().getContainers().forEach(c -> assertFalse(c.getResources().getLimits().containsKey(GPU),
          t.owner() + " must not hold a GPU"));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rendered")
  void devShmIsAMemoryVolumeWithinTheMemoryLimit(ManifestSet set) {
    PodSpec pod = set.only(DaemonSet.class).getSpec().getTemplate().getSpec();
    Container agent = agent(pod);
    VolumeMount shm = agent.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/dev/shm")).findFirst()
        .orElseThrow(() -> new AssertionError(set + ": /dev/shm is not mounted"));
    Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(shm.getName())).findFirst().orElseThrow();
    assertNotNull(volume.getEmptyDir(), "/dev/shm is an emptyDir");
    assertEquals("Memory", volume.getEmptyDir().getMedium(), "/dev/shm is memory-backed");
    assertNotNull(volume.getEmptyDir().getSizeLimit(), "/dev/shm has a size limit");
    // A memory-backed emptyDir counts against the container's memory limit.
    assertTrue(Quantity.getAmountInBytes(volume.getEmptyDir().getSizeLimit()).compareTo(
        Quantity.getAmountInBytes(agent.getResources().getLimits().get("memory"))) < 0, set + ": /dev/shm vs memory limit");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rendered")
  void ncclSettingsComeFromAConfigMapNamingTheSocketInterface(ManifestSet set) {
    Container agent = agent(set.only(DaemonSet.class).getSpec().getTemplate().getSpec());
    boolean interfaceNamed = false;
    for (EnvFromSource from : agent.getEnvFrom()) {
      var data = set.configMap(from.getConfigMapRef().getName()).getData();
      interfaceNamed |= data.containsKey("NCCL_SOCKET_IFNAME") && !data.get("NCCL_SOCKET_IFNAME").isBlank();
    }
    assertTrue(interfaceNamed, set + ": NCCL_SOCKET_IFNAME from a ConfigMap");
    assertTrue(agent.getEnv().stream().noneMatch(e -> e.getName().startsWith("NCCL_")),
        set + ": NCCL settings belong in the ConfigMap, not inline");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rendered")
  void terminationGraceOutlastsTheDrainAndTheLeave(ManifestSet set) {
    PodSpec pod = set.only(DaemonSet.class).getSpec().getTemplate().getSpec();
    ContainerCommandLine cl = new ContainerCommandLine(agent(pod), set, DownwardApi.EXAMPLE);
    long drain = Long.parseLong(cl.option("--drain-timeout"));
    // AgentDaemon: the drain (up to --drain-timeout + 1 s), then up to 30 s for the ActorSystem to leave.
    long needed = drain + 1 + 30;
    assertTrue(pod.getTerminationGracePeriodSeconds() > needed,
        set + ": terminationGracePeriodSeconds " + pod.getTerminationGracePeriodSeconds() + " <= " + needed);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rendered")
  void updatesWaitForThePodsToBeDeletedBetweenRuns(ManifestSet set) {
    // Agents are unready until a coordinator registers them, so a rolling update would stall, and a
    // restart mid-run costs the run; OnDelete leaves the moment to the operator.
    assertEquals("OnDelete", set.only(DaemonSet.class).getSpec().getUpdateStrategy().getType());
  }

  private static Container agent(PodSpec pod) {
    return pod.getContainers().stream()
        .filter(c -> ContainerCommandLine.Application.ofImage(c.getImage()) == ContainerCommandLine.Application.GPU_AGENT)
        .findFirst().orElseThrow(() -> new AssertionError("no gpu-agent container"));
  }
}
