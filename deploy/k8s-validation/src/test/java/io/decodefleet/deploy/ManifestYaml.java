package io.decodefleet.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Reads Kubernetes YAML (one or more documents a file) as JSON trees, and turns a tree into fabric8's
 * typed model of its kind. Only the kinds DecodeFleet ships are known; any other kind is an error.
 */
final class ManifestYaml {
  private ManifestYaml() {}

  static final YAMLMapper YAML = YAMLMapper.builder().build();
  static final ObjectMapper JSON = JsonMapper.builder().build();

  /** apiVersion/kind → model class. */
  private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.ofEntries(
      Map.entry("v1/Namespace", Namespace.class),
      Map.entry("v1/ServiceAccount", ServiceAccount.class),
      Map.entry("v1/ConfigMap", ConfigMap.class),
      Map.entry("v1/Service", Service.class),
      Map.entry("v1/PersistentVolumeClaim", PersistentVolumeClaim.class),
      Map.entry("v1/Pod", Pod.class),
      Map.entry("apps/v1/DaemonSet", DaemonSet.class),
      Map.entry("apps/v1/Deployment", Deployment.class),
      Map.entry("batch/v1/Job", Job.class),
      Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
      Map.entry("rbac.authorization.k8s.io/v1/Role", Role.class),
      Map.entry("rbac.authorization.k8s.io/v1/RoleBinding", RoleBinding.class));

  /** Every non-empty document of the file, each a mapping. */
  static List<ObjectNode> documents(Path file) {
    List<ObjectNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
      int index = 0;
      while (it.hasNext()) {
        JsonNode doc = it.next();
        index++;
        if (doc == null || doc.isNull() || doc.isMissingNode()) continue;
        if (!doc.isObject()) throw new IllegalArgumentException(file + ": document " + index + " is not a mapping");
        docs.add((ObjectNode) doc);
      }
    } catch (JacksonException e) {
      throw new IllegalArgumentException(file + ": " + e.getOriginalMessage(), e);
    }
    return docs;
  }

  static ObjectNode mapping(String yaml, String where) {
    JsonNode node;
    try {
      node = YAML.readTree(yaml);
    } catch (JacksonException e) {
      throw new IllegalArgumentException(where + ": " + e.getOriginalMessage(), e);
    }
    if (!node.isObject()) throw new IllegalArgumentException(where + ": not a mapping");
    return (ObjectNode) node;
  }

  static Class<? extends HasMetadata> modelClass(JsonNode object) {
    String key = object.path("apiVersion").asString("") + "/" + object.path("kind").asString("");
    Class<? extends HasMetadata> type = KINDS.get(key);
    if (type == null) throw new IllegalArgumentException("no model for apiVersion/kind " + key);
    return type;
  }

  /** The typed object; a value of the wrong type for its field fails here. */
  static HasMetadata typed(JsonNode object) {
    return JSON.treeToValue(object, modelClass(object));
  }

  static String describe(JsonNode object) {
    return object.path("kind").asString("?") + "/" + object.path("metadata").path("name").asString("?");
  }
}
