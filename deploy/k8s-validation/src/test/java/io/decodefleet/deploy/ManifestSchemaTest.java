package io.decodefleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/** Every manifest is made of Kubernetes objects that fabric8's model reads completely. */
class ManifestSchemaTest {
  private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  private static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?");
  private static final Pattern LABEL_NAME = Pattern.compile("([a-z0-9.-]{1,253}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");

  static Stream<Path> manifestFiles() throws IOException {
    try (Stream<Path> files = Files.walk(DeploySources.k8s())) {
      return files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .filter(p -> !p.getFileName().toString().equals(Kustomization.FILE)).sorted().toList().stream();
    }
  }

  static Stream<Path> kustomizations() {
    return ManifestSet.kustomizations().stream();
  }

  @ParameterizedTest
  @MethodSource("manifestFiles")
  void everyManifestFileParsesIntoTheKubernetesModelWithNoUnknownField(Path file) {
    ManifestSet set = ManifestSet.file(file);
    assertFalse(set.objects().isEmpty(), file + " holds no object");
    for (HasMetadata o : set.objects()) assertWellFormed(o, set.source());
  }

  @ParameterizedTest
  @MethodSource("kustomizations")
  void renderedKustomizationsParseWithNoUnknownFieldEither(Path dir) {
    ManifestSet set = ManifestSet.rendered(dir);
    for (HasMetadata o : set.objects()) assertWellFormed(o, set.source());
  }

  @Test
  void everyManifestFileIsRenderedByAKustomizationOrIsAStandaloneTool() throws IOException {
    Set<Path> reachable = new TreeSet<>();
    for (Path dir : ManifestSet.kustomizations()) collectResources(dir, reachable);
    List<Path> orphans = new ArrayList<>();
    for (Path file : manifestFiles().toList()) {
      boolean tool = file.getParent().equals(DeploySources.k8s().resolve("tools"));
      if (!reachable.contains(file) && !tool) orphans.add(DeploySources.k8s().relativize(file));
    }
    assertEquals(List.of(), orphans, "manifests no kustomization renders (and not under tools/)");
  }

  @Test
  void aMisspeltFieldIsFoundWithItsPath() {
    JsonNode tree = ManifestYaml.mapping("""
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: gpu-agent}
        spec:
          template:
            spec:
              terminationGracePeriodSecond: 120
              containers: [{name: a, image: x:1}]
        """, "inline");
    List<String> unknown = UnknownFields.in(ManifestYaml.typed(tree));
    assertEquals(1, unknown.size(), unknown.toString());
    assertTrue(unknown.get(0).contains("spec.template.spec") && unknown.get(0).contains("terminationGracePeriodSecond"),
        unknown.get(0));
  }

  @Test
  void aValueOfTheWrongTypeIsRejected() {
    JsonNode tree = ManifestYaml.mapping("""
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: gpu-agent}
        spec: {template: {spec: {terminationGracePeriodSeconds: two-minutes}}}
        """, "inline");
    assertThrows(RuntimeException.class, () -> ManifestYaml.typed(tree));
    assertEquals(DaemonSet.class, ManifestYaml.modelClass(tree));
  }

  private static void collectResources(Path dir, Set<Path> reachable) {
    JsonNode k = ManifestYaml.documents(dir.resolve(Kustomization.FILE)).get(0);
    for (JsonNode entry : k.path("resources")) {
      Path resource = dir.resolve(entry.asString()).normalize();
      if (Files.isDirectory(resource)) collectResources(resource, reachable);
      else reachable.add(resource);
    }
  }

  private static void assertWellFormed(HasMetadata o, String source) {
    String what = source + ": " + o.getKind() + "/" + o.getMetadata().getName();
    assertEquals(List.of(), UnknownFields.in(o), what + ": fields the Kubernetes API does not know");
    assertTrue(o.getMetadata().getName() != null && DNS_SUBDOMAIN.matcher(o.getMetadata().getName()).matches(),
        what + ": name is not a DNS subdomain");
    for (Map.Entry<String, String> label : o.getMetadata().getLabels().entrySet()) {
      assertTrue(LABEL_NAME.matcher(label.getKey()).matches(), what + ": bad label key " + label.getKey());
      assertTrue(LABEL_VALUE.matcher(label.getValue()).matches(), what + ": bad label value " + label.getValue());
    }
    ManifestSet.template(o).ifPresent(template -> {
      template.spec().getContainers().forEach(c -> {
        if (c.getResources() == null) return;
        c.getResources().getRequests().forEach((k, q) -> assertQuantity(what, c.getName(), k, q));
        c.getResources().getLimits().forEach((k, q) -> assertQuantity(what, c.getName(), k, q));
      });
    });
  }

  private static void assertQuantity(String what, String container, String resource, Quantity q) {
    try {
      Quantity.getAmountInBytes(q);
    } catch (RuntimeException e) {
      throw new AssertionError(what + ": container " + container + ": " + resource + " = " + q + " is not a quantity", e);
    }
  }
}
