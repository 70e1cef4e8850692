package io.decodefleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicyRule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The coordinator Job of the benchmark and of each world-size overlay. */
class BenchmarkJobTest {
  private static final Pattern WORLD_SIZE_OVERLAY = Pattern.compile("world-size-(\\d+)");

  static Stream<ManifestSet> withJob() {
    return ManifestSet.kustomizations().stream().map(ManifestSet::rendered).filter(s -> !s.all(Job.class).isEmpty());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("withJob")
  void theJobIsBoundedInTimeAndRetriesOnlyWhatIsNotTheRunsVerdict(ManifestSet set) {
    Job job = set.only(Job.class);
    ContainerCommandLine cl = coordinator(set, job);
    assertEquals("Never", job.getSpec().getTemplate().getSpec().getRestartPolicy());
    assertNotNull(job.getSpec().getBackoffLimit(), "backoffLimit");
    assertTrue(job.getSpec().getBackoffLimit() <= 3, "a failing run is not retried for long");
    long agentTimeout = Long.parseLong(cl.option("--agent-timeout"));
    assertTrue(job.getSpec().getActiveDeadlineSeconds() != null && job.getSpec().getActiveDeadlineSeconds() > agentTimeout,
        set + ": activeDeadlineSeconds must leave time beyond waiting for the agents (" + agentTimeout + " s)");
    // Exit 1 (a request failed or a metric regressed) and 2 (bad arguments) are answers, not accidents.
    List<Integer> failFast = new ArrayList<>();
    for (PodFailurePolicyRule rule : job.getSpec().getPodFailurePolicy().getRules()) {
      if (rule.getAction().equals("FailJob") && rule.getOnExitCodes() != null
          && rule.getOnExitCodes().getOperator().equals("In")) {
        assertEquals("coordinator", rule.getOnExitCodes().getContainerName());
        failFast.addAll(rule.getOnExitCodes().getValues());
      }
    }
    assertEquals(Set.of(1, 2), Set.copyOf(failFast));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("withJob")
  void theReportIsWrittenToTheClaimedVolumeInAFolderPerPod(ManifestSet set) {
    Job job = set.only(Job.class);
    PodSpec pod = job.getSpec().getTemplate().getSpec();
    ContainerCommandLine cl = coordinator(set, job);
    String reportDir = cl.option("--report-dir");
    assertTrue(reportDir.endsWith("/" + DownwardApi.POD_NAME), set + ": one folder per pod, got " + reportDir);
    Container c = pod.getContainers().get(0);
    var mount = c.getVolumeMounts().stream().filter(m -> Path.of(reportDir).startsWith(m.getMountPath())).findFirst()
        .orElseThrow(() -> new AssertionError(set + ": --report-dir " + reportDir + " is on no mounted volume"));
    Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
    assertNotNull(volume.getPersistentVolumeClaim(), set + ": the report outlives the pod on a claimed volume");
    assertEquals(pod.getSecurityContext().getRunAsGroup(), pod.getSecurityContext().getFsGroup(),
        "the volume is writable by the coordinator's group");
  }

  @Test
  void everyWorldSizeOverlaySetsItsWorldSizeAndFillsWholeNodes() {
    int overlays = 0;
    for (Path dir : ManifestSet.kustomizations()) {
      Matcher m = WORLD_SIZE_OVERLAY.matcher(dir.getFileName().toString());
      boolean base = dir.equals(DeploySources.k8s().resolve("benchmark"));
      if (!m.matches() && !base) continue;
      ManifestSet set = ManifestSet.rendered(dir);
      int worldSize = Integer.parseInt(coordinator(set, set.only(Job.class)).option("--world-size"));
      if (m.matches()) {
        assertEquals(Integer.parseInt(m.group(1)), worldSize, dir + ": the Job's --world-size");
        overlays++;
      }
      Container agent = set.only(DaemonSet.class).getSpec().getTemplate().getSpec().getContainers().get(0);
      int gpusPerNode = Integer.parseInt(agent.getResources().getLimits().get("nvidia.com/gpu").getAmount());
      assertEquals(0, worldSize % gpusPerNode, dir + ": world size " + worldSize + " is not whole nodes of "
          + gpusPerNode + " GPUs");
    }
    assertTrue(overlays >= 2, "the world-size overlays were not found");
  }

  private static ContainerCommandLine coordinator(ManifestSet set, Job job) {
    List<Container> containers = job.getSpec().getTemplate().getSpec().getContainers();
    assertEquals(1, containers.size(), "one container: the coordinator");
    ContainerCommandLine cl = new ContainerCommandLine(containers.get(0), set, DownwardApi.EXAMPLE);
    assertEquals(ContainerCommandLine.Application.COORDINATOR, cl.application());
    return cl;
  }
}
