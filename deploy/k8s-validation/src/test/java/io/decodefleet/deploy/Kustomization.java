package io.decodefleet.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Renders a kustomization directory the way kustomize does, for the fields DecodeFleet's use:
 * {@code resources} (files and directories, rendered first), {@code patches} (JSON6902 with a target),
 * {@code namespace} and {@code images}, applied in kustomize's order (patches, namespace, images). Any
 * other field is an error naming it, so a kustomization cannot grow a feature these tests would ignore.
 */
final class Kustomization {
  private Kustomization() {}

  static final String FILE = "kustomization.yaml";
  private static final Set<String> FIELDS = Set.of("apiVersion", "kind", "namespace", "resources", "patches", "images");
  private static final Set<String> CLUSTER_SCOPED = Set.of("Namespace", "ClusterRole", "ClusterRoleBinding",
      "PersistentVolume", "StorageClass", "PriorityClass", "CustomResourceDefinition");

  /** The rendered objects of the kustomization in dir, in resource order. */
  static List<ObjectNode> render(Path dir) {
    Path file = dir.resolve(FILE);
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException(dir + ": no " + FILE);
    List<ObjectNode> docs = ManifestYaml.documents(file);
    if (docs.size() != 1) throw new IllegalArgumentException(file + ": expected one document, found " + docs.size());
    ObjectNode k = docs.get(0);
    for (String field : k.propertyNames()) {
      if (!FIELDS.contains(field)) throw new IllegalArgumentException(file + ": field '" + field + "' is not supported");
    }
    expect(k, "apiVersion", "kustomize.config.k8s.io/v1beta1", file);
    expect(k, "kind", "Kustomization", file);

    List<ObjectNode> objects = new ArrayList<>();
    for (JsonNode entry : k.path("resources")) {
      String ref = entry.asString("");
      if (ref.contains("://") || ref.isBlank()) throw new IllegalArgumentException(file + ": resource '" + ref + "' is not a local path");
      Path resource = dir.resolve(ref).normalize();
      if (Files.isDirectory(resource)) objects.addAll(render(resource));
      else if (Files.isRegularFile(resource)) objects.addAll(ManifestYaml.documents(resource));
      else throw new IllegalArgumentException(file + ": resource '" + ref + "' does not exist");
    }
    checkUnique(objects, file);

    int index = 0;
    for (JsonNode patch : k.path("patches")) applyPatch(objects, patch, dir, file + ", patch " + index++);

    if (k.has("namespace")) setNamespace(objects, k.get("namespace").asString());
    for (JsonNode image : k.path("images")) setImage(objects, image, file);
    return objects;
  }

  private static void expect(ObjectNode k, String field, String value, Path file) {
    if (k.has(field) && !k.get(field).asString("").equals(value)) {
      throw new IllegalArgumentException(file + ": " + field + " must be " + value + ", got " + k.get(field));
    }
  }

  /** kustomize's resource id: group, kind, namespace, name. */
  static String id(JsonNode object) {
    return group(object) + "/" + object.path("kind").asString("") + "/" + object.path("metadata").path("namespace").asString("")
        + "/" + object.path("metadata").path("name").asString("");
  }

  private static void checkUnique(List<ObjectNode> objects, Path file) {
    Set<String> seen = new HashSet<>();
    for (ObjectNode o : objects) {
      if (!seen.add(id(o))) throw new IllegalArgumentException(file + ": resource " + id(o) + " is included twice");
    }
  }

  static String group(JsonNode object) {
    String apiVersion = object.path("apiVersion").asString("");
    int slash = apiVersion.indexOf('/');
    return slash < 0 ? "" : apiVersion.substring(0, slash);
  }

  static String version(JsonNode object) {
    String apiVersion = object.path("apiVersion").asString("");
    return apiVersion.substring(apiVersion.indexOf('/') + 1);
  }

  private static void applyPatch(List<ObjectNode> objects, JsonNode patch, Path dir, String where) {
    for (String field : patch.propertyNames()) {
      if (!Set.of("path", "patch", "target").contains(field)) {
        throw new IllegalArgumentException(where + ": field '" + field + "' is not supported");
      }
    }
    if (patch.has("path") == patch.has("patch")) throw new IllegalArgumentException(where + ": give exactly one of path, patch");
    JsonNode target = patch.path("target");
    if (!target.isObject()) throw new IllegalArgumentException(where + ": a JSON6902 patch needs a target");
    String text;
    try {
      text = patch.has("patch") ? patch.get("patch").asString() : Files.readString(dir.resolve(patch.get("path").asString()));
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(where + ": cannot read " + patch.get("path").asString() + ": " + e.getMessage());
    }
    JsonNode operations = ManifestYaml.YAML.readTree(text);
    if (!operations.isArray()) {
      throw new IllegalArgumentException(where + ": only JSON6902 patches (a list of operations) are supported");
    }
    int matched = 0;
    for (int i = 0; i < objects.size(); i++) {
      ObjectNode o = objects.get(i);
      if (matches(target, o)) {
        objects.set(i, (ObjectNode) JsonPatch.apply(o, operations, where + " on " + ManifestYaml.describe(o)));
        matched++;
      }
    }
    if (matched == 0) throw new IllegalArgumentException(where + ": target " + target + " matches no resource");
  }

  private static boolean matches(JsonNode target, JsonNode o) {
    for (String field : target.propertyNames()) {
      String want = target.get(field).asString("");
      String have = switch (field) {
        case "group" -> group(o);
        case "version" -> version(o);
        case "kind" -> o.path("kind").asString("");
        case "name" -> o.path("metadata").path("name").asString("");
        case "namespace" -> o.path("metadata").path("namespace").asString("");
        default -> throw new IllegalArgumentException("patch target field '" + field + "' is not supported");
      };
      if (!want.equals(have)) return false;
    }
    return true;
  }

  /** Namespaced objects move to the namespace; a Namespace object is renamed to it (as kustomize does). */
  private static void setNamespace(List<ObjectNode> objects, String namespace) {
    for (ObjectNode o : objects) {
      ObjectNode metadata = o.withObjectProperty("metadata");
      if (o.path("kind").asString("").equals("Namespace")) metadata.put("name", namespace);
      else if (!CLUSTER_SCOPED.contains(o.path("kind").asString(""))) metadata.put("namespace", namespace);
    }
  }

  private static void setImage(List<ObjectNode> objects, JsonNode image, Path file) {
    String name = image.path("name").asString("");
    if (name.isEmpty()) throw new IllegalArgumentException(file + ": an images entry has no name");
    for (ObjectNode o : objects) {
      for (ObjectNode container : PodSpecs.containers(o)) {
        ImageReference ref = ImageReference.parse(container.path("image").asString(""));
        if (!ref.name().equals(name)) continue;
        String newName = image.path("newName").asString(ref.name());
        String tag = image.has("newTag") ? image.get("newTag").asString() : ref.tag();
        String digest = image.has("digest") ? image.get("digest").asString() : image.has("newTag") ? null : ref.digest();
        container.put("image", new ImageReference(newName, digest != null ? null : tag, digest).toString());
      }
    }
  }
}
