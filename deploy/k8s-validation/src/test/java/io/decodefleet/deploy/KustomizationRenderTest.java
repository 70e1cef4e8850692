package io.decodefleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.node.ObjectNode;

/** The kustomizations render to the objects they are meant to, as kustomize renders them. */
class KustomizationRenderTest {

  static Stream<Path> kustomizations() {
    return ManifestSet.kustomizations().stream();
  }

  @Test
  void benchmarkIsTheFleetPlusOneCoordinatorJobAndItsReportVolume() {
    assertEquals(List.of(
            "/ConfigMap/decodefleet/decodefleet-cluster", "/ConfigMap/decodefleet/decodefleet-gpu-agent",
            "/ConfigMap/decodefleet/decodefleet-nccl", "/Namespace//decodefleet",
            "/PersistentVolumeClaim/decodefleet/decodefleet-reports", "/ServiceAccount/decodefleet/decodefleet",
            "apps/DaemonSet/decodefleet/gpu-agent", "batch/Job/decodefleet/decodefleet-benchmark",
            "policy/PodDisruptionBudget/decodefleet/gpu-agent",
            "rbac.authorization.k8s.io/Role/decodefleet/decodefleet-pod-reader",
            "rbac.authorization.k8s.io/Role/decodefleet/decodefleet-split-brain-lease",
            "rbac.authorization.k8s.io/RoleBinding/decodefleet/decodefleet-pod-reader",
            "rbac.authorization.k8s.io/RoleBinding/decodefleet/decodefleet-split-brain-lease"),
        ids(Kustomization.render(DeploySources.k8s().resolve("benchmark"))));
  }

  @Test
  void apiIsTheFleetPlusTheServingCoordinatorAndItsHeadlessService() {
    List<String> ids = ids(Kustomization.render(DeploySources.k8s().resolve("api")));
    assertTrue(ids.contains("apps/Deployment/decodefleet/coordinator-api"), ids.toString());
    assertTrue(ids.contains("/Service/decodefleet/decodefleet-coordinator"), ids.toString());
    assertTrue(ids.contains("apps/DaemonSet/decodefleet/gpu-agent"), ids.toString());
    assertTrue(ids.stream().noneMatch(id -> id.startsWith("batch/Job/")), "the API must not run a benchmark Job: " + ids);
  }

  @ParameterizedTest
  @MethodSource("kustomizations")
  void rendersLikeKubectlKustomize(Path dir) throws Exception {
    Path kubectl = onPath("kubectl");
    assumeTrue(kubectl != null, "kubectl is not installed: the cross-check with kustomize is skipped");
    Process p = new ProcessBuilder(kubectl.toString(), "kustomize", dir.toString()).redirectErrorStream(false).start();
    byte[] out = p.getInputStream().readAllBytes();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize did not finish");
    assertEquals(0, p.exitValue(), "kubectl kustomize " + dir + ": " + err);
    List<JsonNode> theirs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = ManifestYaml.YAML.readerFor(JsonNode.class).readValues(out)) {
      while (it.hasNext()) theirs.add(it.next());
    }
    List<ObjectNode> ours = Kustomization.render(dir);
    assertEquals(byId(theirs), byId(new ArrayList<>(ours)), "rendered objects differ from kubectl kustomize " + dir);
  }

  @Test
  void aFailedJsonPatchTestStopsTheRender(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: \"1\"}\n");
    Files.writeString(dir.resolve(Kustomization.FILE), """
        resources: [cm.yaml]
        patches:
          - target: {kind: ConfigMap, name: c}
            patch: |-
              - {op: test, path: /data/a, value: "2"}
        """);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kustomization.render(dir));
    assertTrue(e.getMessage().contains("test failed at /data/a"), e.getMessage());
  }

  @Test
  void aPatchWhoseTargetMatchesNothingIsAnError(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
    Files.writeString(dir.resolve(Kustomization.FILE), """
        resources: [cm.yaml]
        patches:
          - target: {kind: ConfigMap, name: typo}
            patch: '[{op: remove, path: /data}]'
        """);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kustomization.render(dir));
    assertTrue(e.getMessage().contains("matches no resource"), e.getMessage());
  }

  @Test
  void aKustomizeFieldTheRendererDoesNotImplementIsRejected(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve(Kustomization.FILE), "namePrefix: team-\nresources: []\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kustomization.render(dir));
    assertTrue(e.getMessage().contains("field 'namePrefix' is not supported"), e.getMessage());
  }

  @Test
  void patchesEscapeSlashesAndImagesKeepARegistryPort(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("pod.yaml"), """
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
            - name: a
              image: decodefleet/gpu-agent:old
              resources: {limits: {nvidia.com/gpu: "8"}}
        """);
    Files.writeString(dir.resolve(Kustomization.FILE), """
        namespace: lab
        resources: [pod.yaml]
        patches:
          - target: {kind: Pod, name: p}
            patch: '[{op: replace, path: /spec/containers/0/resources/limits/nvidia.com~1gpu, value: "4"}]'
        images:
          - {name: decodefleet/gpu-agent, newName: "registry.local:5000/df/gpu-agent", newTag: "1.2"}
        """);
    ObjectNode pod = Kustomization.render(dir).get(0);
    JsonNode container = pod.at("/spec/containers/0");
    assertEquals("4", container.at("/resources/limits/nvidia.com~1gpu").asString());
    assertEquals("registry.local:5000/df/gpu-agent:1.2", container.path("image").asString());
    assertEquals("lab", pod.at("/metadata/namespace").asString());
    assertEquals(new ImageReference("registry.local:5000/df/gpu-agent", "1.2", null),
        ImageReference.parse("registry.local:5000/df/gpu-agent:1.2"));
  }

  private static List<String> ids(List<ObjectNode> objects) {
    return new ArrayList<>(new TreeSet<>(objects.stream().map(Kustomization::id).toList()));
  }

  private static Map<String, JsonNode> byId(List<? extends JsonNode> objects) {
    Map<String, JsonNode> map = new HashMap<>();
    for (JsonNode o : objects) map.put(Kustomization.id(o), o);
    assertEquals(objects.size(), map.size(), "duplicate resource ids");
    return map;
  }

  private static Path onPath(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(dir, program);
      if (!dir.isEmpty() && Files.isExecutable(candidate)) return candidate;
    }
    return null;
  }
}
