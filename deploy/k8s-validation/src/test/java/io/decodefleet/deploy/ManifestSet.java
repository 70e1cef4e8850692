package io.decodefleet.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import tools.jackson.databind.node.ObjectNode;

/**
 * A set of Kubernetes objects (a rendered kustomization, or one manifest file), each as its JSON tree
 * and as fabric8's typed model, with the look-ups the wiring tests need.
 */
final class ManifestSet {

  /** A pod template of a workload (or a bare Pod): who owns it, its labels and its spec. */
  record PodTemplate(String owner, HasMetadata workload, Map<String, String> labels, PodSpec spec,
      Map<String, String> annotations) {
    PodTemplate {
      annotations = annotations == null ? Map.of() : annotations;
    }
  }

  private final String source;
  private final List<ObjectNode> trees;
  private final List<HasMetadata> objects;

  private ManifestSet(String source, List<ObjectNode> trees) {
    this.source = source;
    this.trees = List.copyOf(trees);
    List<HasMetadata> typed = new ArrayList<>();
    for (ObjectNode tree : trees) {
      try {
        typed.add(ManifestYaml.typed(tree));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(source + ": " + ManifestYaml.describe(tree) + ": " + e.getMessage(), e);
      }
    }
    this.objects = List.copyOf(typed);
  }

  static ManifestSet rendered(Path kustomizationDir) {
    return new ManifestSet(DeploySources.k8s().relativize(kustomizationDir) + "/", Kustomization.render(kustomizationDir));
  }

  static ManifestSet file(Path manifest) {
    return new ManifestSet(DeploySources.k8s().relativize(manifest).toString(), ManifestYaml.documents(manifest));
  }

  /** Every directory under deploy/k8s that holds a kustomization.yaml. */
  static List<Path> kustomizations() {
    try (Stream<Path> files = Files.walk(DeploySources.k8s())) {
      return files.filter(p -> p.getFileName().toString().equals(Kustomization.FILE)).map(Path::getParent).sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String source() {
    return source;
  }

  List<ObjectNode> trees() {
    return trees;
  }

  List<HasMetadata> objects() {
    return objects;
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <T extends HasMetadata> Optional<T> named(Class<T> type, String name) {
    return all(type).stream().filter(o -> name.equals(o.getMetadata().getName())).findFirst();
  }

  <T extends HasMetadata> T only(Class<T> type) {
    List<T> found = all(type);
    if (found.size() != 1) {
      throw new AssertionError(source + ": expected one " + type.getSimpleName() + ", found " + found.size());
    }
    return found.get(0);
  }

  ConfigMap configMap(String name) {
    return named(ConfigMap.class, name)
        .orElseThrow(() -> new AssertionError(source + ": ConfigMap " + name + " is referenced but not defined"));
  }

  List<PodTemplate> podTemplates() {
    return objects.stream().flatMap(o -> template(o).stream()).toList();
  }

  /** The pod template of a workload, or the spec of a bare Pod; empty for other kinds. */
  static Optional<PodTemplate> template(HasMetadata o) {
    String owner = o.getKind() + "/" + o.getMetadata().getName();
    if (o instanceof DaemonSet d) {
      return Optional.of(new PodTemplate(owner, o, d.getSpec().getTemplate().getMetadata().getLabels(),
          d.getSpec().getTemplate().getSpec(), d.getSpec().getTemplate().getMetadata().getAnnotations()));
    } else if (o instanceof Deployment d) {
      return Optional.of(new PodTemplate(owner, o, d.getSpec().getTemplate().getMetadata().getLabels(),
          d.getSpec().getTemplate().getSpec(), d.getSpec().getTemplate().getMetadata().getAnnotations()));
    } else if (o instanceof Job j) {
      return Optional.of(new PodTemplate(owner, o, j.getSpec().getTemplate().getMetadata().getLabels(),
          j.getSpec().getTemplate().getSpec(), j.getSpec().getTemplate().getMetadata().getAnnotations()));
    } else if (o instanceof Pod p) {
      return Optional.of(new PodTemplate(owner, o, p.getMetadata().getLabels(), p.getSpec(),
          p.getMetadata().getAnnotations()));
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return source;
  }
}
